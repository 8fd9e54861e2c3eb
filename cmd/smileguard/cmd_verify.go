package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/textproto"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/smileguard/smileguard/cmd/smileguard/internal/config"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/explain"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/flagenv"
	"github.com/smileguard/smileguard/signer"
)

var verifyHelp = help{
	usage: "verify [flags] [FILE|-]\n       smileguard verify --timestamp TS --signature SIG [--url URL] [--partner-id ID] [flags]",
	about: `
Reads a captured callback (its body from FILE, or standard input for "-" or
no FILE; its headers from -H) and explains every check of the Guard in order,
one line each, with what it found: the source address and the environment it
binds (--ip), the content type and size, the format, the signature and
timestamp members or headers, the timestamp and which SDK style it is, its
skew from now (or --at), and for each key of the key file whether it
verifies and why not (environment, validity window, partner id with or
without leading zeros, a timestamp signed in another spelling). The last
line is the Guard's own verdict, from a Guard configured with the same flags.
Exit status 0 if the Guard would admit the callback, 1 if not.

With --message, the input is the whole HTTP request (headers, a blank line,
then the body; a request line first is allowed), as "smileguard sign"
prints it or a capture shows it.

With --timestamp and --signature, it checks an outbound request's signature
instead (v1 body fields or v2 smileid-* headers): which key made it, for which
partner id, whether the timestamp is in the format Smile ID documents and
close to now, and whether the key is for the host of --url. That is the
"why does Smile ID answer 2204/2205" question.

The API keys are never printed; a signature is shown by its first characters.`,
	examples: `  # A body-signed callback saved from a log, as it would be judged now:
  smileguard verify --keys-file keys.json callback.json

  # A v3 callback, its signature in headers, from a Smile ID address, at the time it came:
  smileguard verify --keys-file keys.json --ip 52.213.46.74 --at 2026-11-21T10:00:03Z \
      -H 'Response-Signature: XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=' \
      -H 'Response-Timestamp: 2026-11-21T10:00:00.000Z' v3-callback.json

  # A whole request, as sign prints it:
  smileguard sign --keys-file keys.json --format header | smileguard verify --keys-file keys.json --message

  # Why does Smile ID answer 2205 to my request?
  smileguard verify --keys-file keys.json --url https://testapi.smileidentity.com/v1/id_verification \
      --timestamp 2026-11-21T10:00:00.000Z --signature 'XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74='`,
}

type verifyFlags struct {
	fs        *flagenv.Set
	keys      *config.KeyFlags
	allow     *config.AllowFlags
	callback  *config.CallbackFlags
	headers   flagenv.Repeated
	message   bool
	at        string
	ip        string
	timestamp string
	signature string
	partnerID string
	url       string
}

func defineVerifyFlags() *verifyFlags {
	fs := flagenv.New("verify")
	f := &verifyFlags{fs: fs}
	fs.Var(&f.headers, "header", "a header of the callback, `'Name: value'`; repeat for more")
	fs.Alias("H", "header")
	fs.BoolVar(&f.message, "message", false, "the input is a whole HTTP request: headers, a blank line, the body")
	fs.StringVar(&f.at, "at", "", "judge freshness and key windows at `TIME` (RFC 3339 or any SDK style) instead of now")
	fs.StringVar(&f.ip, "ip", "", "the callback's source `ADDR`: check it against the allowed sets and the environment it binds")
	fs.StringVar(&f.timestamp, "timestamp", "", "outbound: the `TIMESTAMP` a request to Smile ID carried")
	fs.StringVar(&f.signature, "signature", "", "outbound: the `SIGNATURE` it carried")
	fs.StringVar(&f.partnerID, "partner-id", "", "outbound: the partner `ID` it carried")
	fs.StringVar(&f.url, "url", "", "outbound: the `URL` it was sent to")
	f.keys = config.DefineKeyFlags(fs)
	f.allow = config.DefineAllowFlags(fs)
	f.callback = config.DefineCallbackFlags(fs)
	fs.Group("Input", "header", "message", "at", "ip")
	fs.Group("Outbound check", "timestamp", "signature", "partner-id", "url")
	fs.Group("Configuration, as the proxy's", "keys-file", "keys-env-prefix", "environments", "allow-production", "allow-sandbox",
		"tolerance", "max-body-bytes", "formats")
	return f
}

func runVerify(e *env, args []string) int {
	f := defineVerifyFlags()
	if status, ok := parse(e, f.fs, verifyHelp, args); !ok {
		return status
	}
	var p config.Problems
	outbound := f.signature != "" || f.timestamp != ""
	if outbound && (f.signature == "" || f.timestamp == "") {
		p.Add("--timestamp and --signature come together")
	}
	if !outbound && (f.partnerID != "" || f.url != "") {
		p.Add("--partner-id and --url are for the outbound check, with --timestamp and --signature")
	}
	if f.fs.NArg() > 1 {
		p.Add("one FILE at most")
	}
	if outbound && (f.fs.NArg() > 0 || f.message || len(f.headers) > 0 || f.ip != "") {
		p.Add("the outbound check reads no callback: no FILE, --message, -H or --ip")
	}
	var at time.Time
	atGiven := f.at != ""
	if atGiven {
		t, err := signer.ParseTimestamp(f.at)
		if err != nil {
			p.Add("--at %q: not a time (RFC 3339, such as 2026-11-21T10:00:00Z, or any SDK style)", f.at)
		}
		at = t
	}
	var ip netip.Addr
	if f.ip != "" {
		var err error
		if ip, err = netip.ParseAddr(f.ip); err != nil {
			p.Add("--ip %q: not an IP address", f.ip)
		}
	}
	cb := f.callback.Config(&p)
	before := len(p)
	src := f.keys.Source(e.lookup, &p)
	var keys []signer.Key
	if len(p) == before {
		keys = f.keys.LoadNamed(src, &p)
	}
	if err := p.Err(); err != nil {
		return fail(e, "verify", err)
	}

	if !atGiven {
		at = time.Now()
	}
	var report explain.Report
	if outbound {
		report = explain.ExplainOutbound(explain.Outbound{
			Timestamp: f.timestamp, Signature: f.signature, PartnerID: f.partnerID, URL: f.url,
			At: at, AtFlag: atGiven, Tolerance: cb.Tolerance, Keys: keys,
		})
	} else {
		body, header, err := f.input(e)
		if err != nil {
			return fail(e, "verify", err)
		}
		if !atGiven {
			at = time.Now() // after the input: a pipe's writer may have signed it just now
		}
		_, sets := f.allow.Sets(keys, &p)
		if err := p.Err(); err != nil {
			return fail(e, "verify", err)
		}
		report = explain.ExplainCallback(explain.Callback{
			Body: body, Header: header, IP: ip, At: at, AtFlag: atGiven,
			Keys: keys, Sets: sets, Callback: cb,
		})
	}
	report.WriteTo(e.stdout)
	if !report.OK {
		return exitFailed
	}
	return exitOK
}

// maxInput bounds what verify reads: a callback body may be 1 GiB at
// most (middleware.MaxBodyBytesLimit), and one over the limit only needs
// to be seen as over it.
const maxInput = 1<<30 + 1

// input reads the callback: the body from the file or standard input, the
// headers from -H, or both from an HTTP message.
func (f *verifyFlags) input(e *env) ([]byte, http.Header, error) {
	in := e.stdin
	name := "standard input"
	if f.fs.NArg() == 1 && f.fs.Arg(0) != "-" {
		file, err := os.Open(f.fs.Arg(0))
		if err != nil {
			return nil, nil, err
		}
		defer file.Close()
		in, name = file, f.fs.Arg(0)
	} else if isTerminal(e.stdin) {
		fmt.Fprintln(e.stderr, "smileguard verify: reading the callback from standard input (end it with Ctrl-D)")
	}
	data, err := io.ReadAll(io.LimitReader(in, maxInput))
	if err != nil {
		return nil, nil, fmt.Errorf("reading %s: %w", name, err)
	}
	header := http.Header{}
	body := data
	if f.message {
		if body, header, err = parseMessage(data); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	for _, h := range f.headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, nil, (&config.Problems{fmt.Sprintf("-H %q: write 'Name: value'", h)}).Err()
		}
		header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	return body, header, nil
}

var requestLine = regexp.MustCompile(`^[A-Z]+ \S+ HTTP/\d\.\d\r?\n`)

// parseMessage splits an HTTP message into its headers and its body: a
// request (with a request line, read by net/http, which undoes chunked
// encoding) or a header block and the rest, byte for byte.
func parseMessage(data []byte) ([]byte, http.Header, error) {
	if requestLine.Match(data) {
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data)))
		if err != nil {
			return nil, nil, fmt.Errorf("not an HTTP request: %w", err)
		}
		body, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, nil, fmt.Errorf("reading the request's body: %w", err)
		}
		return body, req.Header, nil
	}
	r := bufio.NewReader(bytes.NewReader(data))
	mime, err := textproto.NewReader(r).ReadMIMEHeader()
	if err != nil {
		return nil, nil, fmt.Errorf("not a header block, a blank line and a body: %w", err)
	}
	body, _ := io.ReadAll(r)
	return body, http.Header(mime), nil
}
