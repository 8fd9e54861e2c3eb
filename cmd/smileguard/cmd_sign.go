package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/smileguard/smileguard/cmd/smileguard/internal/config"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/flagenv"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/sample"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

var signHelp = help{
	usage: "sign [flags] [FILE|-]",
	about: `
Signs a callback the way Smile ID does, with a key of the key file: the body
of FILE (or standard input for "-"), or without FILE a realistic sample body
for the format with fresh job ids. A body-signed callback (v1/v2) gets its
"signature" and "timestamp" members; a header-signed one (v3) gets the
Response-Signature and Response-Timestamp headers.

It prints the request (headers, a blank line, the body, as "smileguard verify
--message" reads it), or the body alone with --output body, or POSTs it to a
URL with --post and prints the answer, so that a receiver can be exercised
locally the way "stripe trigger" does. With --post the exit status is 0 for
a 2xx answer and 1 otherwise.

Styles in whole seconds (ruby, php, unix) sign two callbacks of one key in
one second alike: the Guard takes the second for a replay of the first.

The output holds the signature, which is worth as much as the API key for
as long as the timestamp is fresh: keep it to test environments.`,
	examples: `  # A sample v1 callback, signed now with the only key of the file:
  smileguard sign --keys-file keys.json

  # A v3 callback to a receiver running locally, and its answer:
  smileguard sign --keys-file keys.json --key sandbox-1 --format header --post http://127.0.0.1:8080/smileid/callback

  # Your own body, signed as the Python SDK writes timestamps, ten minutes ago (a stale one):
  smileguard sign --keys-file keys.json --timestamp-style python --at "$(date -u -d '-10 min' +%FT%TZ)" body.json

  # Through a local proxy that trusts 127.0.0.1 as a load balancer:
  smileguard sign --keys-file keys.json --post http://127.0.0.1:8080/smileid/callback -H 'X-Forwarded-For: 52.213.46.74'`,
}

type signFlags struct {
	fs      *flagenv.Set
	keys    *config.KeyFlags
	key     string
	format  string
	style   string
	at      string
	trimmed bool
	output  string
	post    string
	headers flagenv.Repeated
	timeout flagenv.Duration
}

func defineSignFlags() *signFlags {
	fs := flagenv.New("sign")
	f := &signFlags{fs: fs, timeout: flagenv.Duration(10 * time.Second)}
	fs.StringVar(&f.key, "key", "", "sign with the key whose id is `ID` (default: the file's only key)")
	fs.StringVar(&f.format, "format", "body", "`FORMAT`: body (v1/v2, signature and timestamp in the JSON body) or header (v3, in headers)")
	names := make([]string, len(sample.Styles))
	for i, s := range sample.Styles {
		names[i] = string(s)
	}
	fs.StringVar(&f.style, "timestamp-style", string(sample.ISOMillis), "write the timestamp as an SDK does: `STYLE`, one of "+strings.Join(names, ", "))
	fs.StringVar(&f.at, "at", "", "sign at `TIME` (RFC 3339 or any SDK style) instead of now")
	fs.BoolVar(&f.trimmed, "trimmed-partner-id", false, "sign with the partner id without its leading zeros (\"0042\" as \"42\"), as Smile ID's v3 API spells it")
	fs.StringVar(&f.output, "output", "message", "print `WHAT`: message (headers, blank line, body) or body")
	fs.StringVar(&f.post, "post", "", "POST the callback to `URL` and print the answer instead")
	fs.Var(&f.headers, "header", "with --post, send this header too, `'Name: value'`; repeat for more")
	fs.Alias("H", "header")
	fs.Var(&f.timeout, "timeout", "with --post, how long to wait for the answer (`DURATION`)")
	f.keys = config.DefineKeyFlags(fs)
	fs.Group("Keys", "keys-file", "keys-env-prefix")
	fs.Group("Signing", "key", "format", "timestamp-style", "at", "trimmed-partner-id")
	fs.Group("Output", "output", "post", "header", "timeout")
	return f
}

func runSign(e *env, args []string) int {
	f := defineSignFlags()
	if status, ok := parse(e, f.fs, signHelp, args); !ok {
		return status
	}
	var p config.Problems
	format := middleware.CallbackFormat(f.format)
	if format != middleware.BodySigned && format != middleware.HeaderSigned {
		p.Add("--format %q: neither body nor header", f.format)
	}
	style := sample.Style(f.style)
	if !slices.Contains(sample.Styles, style) {
		p.Add("--timestamp-style %q: not one of the styles listed in --help", f.style)
	}
	at := time.Now()
	if f.at != "" {
		t, err := signer.ParseTimestamp(f.at)
		if err != nil {
			p.Add("--at %q: not a time (RFC 3339, such as 2026-11-21T10:00:00Z, or any SDK style)", f.at)
		}
		at = t
	}
	if f.output != "message" && f.output != "body" {
		p.Add("--output %q: neither message nor body", f.output)
	}
	if f.post != "" {
		if u, err := url.Parse(f.post); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.Add("--post: not an http or https URL")
		}
	} else if len(f.headers) > 0 {
		p.Add("-H goes with --post")
	}
	extra := http.Header{}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			p.Add("-H %q: write 'Name: value'", h)
			continue
		}
		extra.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	if f.fs.NArg() > 1 {
		p.Add("one FILE at most")
	}
	before := len(p)
	src := f.keys.Source(e.lookup, &p)
	var key signer.Key
	if len(p) == before {
		keys := f.keys.LoadNamed(src, &p)
		key = pickKey(keys, f.key, &p)
	}
	if err := p.Err(); err != nil {
		return fail(e, "sign", err)
	}

	body := sample.Body(format, at)
	if f.fs.NArg() == 1 {
		var err error
		if body, err = readInput(e, f.fs.Arg(0)); err != nil {
			return fail(e, "sign", err)
		}
	}
	s, err := sample.Sign(key, body, sample.Options{Format: format, Style: style, At: at, TrimmedPartnerID: f.trimmed})
	if err != nil {
		return fail(e, "sign", err)
	}
	if f.post == "" {
		if f.output == "message" {
			writeHeader(e.stdout, s.Header)
			fmt.Fprint(e.stdout, "\n")
		}
		e.stdout.Write(s.Body)
		if isTerminal(e.stdout) {
			fmt.Fprint(e.stdout, "\n")
		}
		return exitOK
	}
	return postSigned(e, f, s, key, extra)
}

// pickKey returns the key named id, or the only key.
func pickKey(keys []signer.Key, id string, p *config.Problems) signer.Key {
	if id == "" {
		if len(keys) == 1 {
			return keys[0]
		}
		if len(keys) > 1 {
			p.Add("--key: the file holds %d keys; name one (%s)", len(keys), strings.Join(idsOf(keys), ", "))
		}
		return signer.Key{}
	}
	for _, k := range keys {
		if k.ID == id {
			return k
		}
	}
	if len(keys) > 0 {
		p.Add("--key %q: no such key (%s)", id, strings.Join(idsOf(keys), ", "))
	}
	return signer.Key{}
}

func idsOf(keys []signer.Key) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	return ids
}

// postSigned sends the signed callback and prints the answer.
func postSigned(e *env, f *signFlags, s sample.Signed, key signer.Key, extra http.Header) int {
	req, err := http.NewRequest(http.MethodPost, f.post, bytes.NewReader(s.Body))
	if err != nil {
		return fail(e, "sign", err)
	}
	for name, values := range extra {
		req.Header[name] = values
	}
	for name, values := range s.Header {
		req.Header[name] = values
	}
	fmt.Fprintf(e.stderr, "smileguard sign: POST %s: %s-signed by key %s (%s), timestamp %s, %d bytes\n",
		req.URL.Redacted(), s.Format, key.ID, key.Environment, s.Timestamp, len(s.Body))
	client := &http.Client{Timeout: time.Duration(f.timeout)}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(e.stderr, "smileguard sign: %v\n", err)
		return exitFailed
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	fmt.Fprintf(e.stdout, "%s %s\n", resp.Proto, resp.Status)
	writeHeader(e.stdout, resp.Header)
	fmt.Fprintf(e.stdout, "\n%s", answer)
	if len(answer) > 0 && answer[len(answer)-1] != '\n' {
		fmt.Fprint(e.stdout, "\n")
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return exitFailed
	}
	return exitOK
}

// writeHeader writes h as header lines, sorted by name.
func writeHeader(w io.Writer, h http.Header) {
	names := make([]string, 0, len(h))
	for name := range h {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range h[name] {
			fmt.Fprintf(w, "%s: %s\n", name, v)
		}
	}
}

// readInput reads a file, or standard input for "-".
func readInput(e *env, name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(io.LimitReader(e.stdin, maxInput))
	}
	file, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return io.ReadAll(io.LimitReader(file, maxInput))
}

// isTerminal reports whether s (a writer or a reader) is a terminal: sign
// ends its output there with a newline that keeps the prompt off the
// body's last line, and verify says it waits for input.
func isTerminal(s any) bool {
	f, ok := s.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}
