package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// binary is the smileguard command, built once by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "smileguard-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "smileguard")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building smileguard:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// The test keys. Their API keys are made up.
var (
	prodKey    = signer.Key{ID: "prod-2026-11", PartnerID: "1622", APIKey: "e2e-production-api-key-one", Environment: signer.Production}
	prodKeyNew = signer.Key{ID: "prod-2027-02", PartnerID: "1622", APIKey: "e2e-production-api-key-two", Environment: signer.Production}
	sandboxKey = signer.Key{ID: "sandbox-1", PartnerID: "1622", APIKey: "e2e-sandbox-api-key", Environment: signer.Sandbox}
	// stranger has the right partner id and the wrong API key: a forger.
	stranger = signer.Key{ID: "stranger", PartnerID: "1622", APIKey: "not-the-receivers-key", Environment: signer.Production}
)

// writeKeys writes keys as a key file only its owner can read, at path
// (atomically, so that a SIGHUP never reads half a file) or in a new
// temporary directory, and returns its path.
func writeKeys(t testing.TB, path string, keys ...signer.Key) string {
	t.Helper()
	if path == "" {
		path = filepath.Join(t.TempDir(), "keys.json")
	}
	type entry struct {
		ID          string `json:"id"`
		PartnerID   string `json:"partner_id"`
		Environment string `json:"environment"`
		APIKey      string `json:"api_key"`
		CreatedAt   string `json:"created_at,omitempty"`
		NotBefore   string `json:"not_before,omitempty"`
		NotAfter    string `json:"not_after,omitempty"`
	}
	var doc struct {
		Keys []entry `json:"keys"`
	}
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range keys {
		doc.Keys = append(doc.Keys, entry{k.ID, k.PartnerID, string(k.Environment), k.APIKey,
			stamp(k.CreatedAt), stamp(k.NotBefore), stamp(k.NotAfter)})
	}
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, data, 0o600))
	require.NoError(t, os.Chmod(tmp, 0o600))
	require.NoError(t, os.Rename(tmp, path))
	return path
}

// cleanEnv is the test process's environment without any SMILEGUARD_ or
// SMILEID_ variable, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "SMILEGUARD_") || strings.HasPrefix(kv, "SMILEID_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// A proc is a running smileguard proxy.
type proc struct {
	t         testing.TB
	cmd       *exec.Cmd
	addr      string // the callback listener, host:port
	adminAddr string
	stderr    bytes.Buffer

	mu    sync.Mutex
	lines []map[string]any // its JSON log, parsed
	raw   []string
	more  chan struct{} // closed and replaced at each new line

	done    chan struct{} // closed when the process has exited
	exitErr error

	discard atomic.Bool // drop log lines unread: the load test's log is not the test's work
}

// startProxy runs smileguard proxy with args (on free loopback ports) and
// waits until it listens. The process is killed, by its pid, when the
// test ends if it is still running.
func startProxy(t testing.TB, env []string, args ...string) *proc {
	t.Helper()
	args = append([]string{"proxy", "--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}, args...)
	p := &proc{t: t, cmd: exec.Command(binary, args...), more: make(chan struct{}), done: make(chan struct{})}
	p.cmd.Env = cleanEnv(env...)
	p.cmd.Stderr = &lockedWriter{w: &p.stderr, mu: &p.mu}
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() { p.kill() })
	go p.read(stdout)
	line := p.waitLog("smileguard: listening", 10*time.Second)
	p.addr, _ = line["addr"].(string)
	p.adminAddr, _ = line["admin_addr"].(string)
	require.NotEmpty(t, p.addr)
	return p
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *proc) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if p.discard.Load() {
			continue
		}
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			line = map[string]any{"msg": "(not JSON) " + sc.Text()}
		}
		p.mu.Lock()
		p.lines = append(p.lines, line)
		p.raw = append(p.raw, sc.Text())
		close(p.more)
		p.more = make(chan struct{})
		p.mu.Unlock()
	}
	err := p.cmd.Wait()
	p.mu.Lock()
	p.exitErr = err
	p.mu.Unlock()
	close(p.done)
}

// waitLog waits for the first log line with message msg, at most timeout,
// and returns it.
func (p *proc) waitLog(msg string, timeout time.Duration) map[string]any {
	p.t.Helper()
	return p.waitLogAfter(0, msg, timeout)
}

// waitLogAfter is waitLog for lines from the index from on.
func (p *proc) waitLogAfter(from int, msg string, timeout time.Duration) map[string]any {
	p.t.Helper()
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		for _, line := range p.lines[min(from, len(p.lines)):] {
			if line["msg"] == msg {
				p.mu.Unlock()
				return line
			}
		}
		more := p.more
		p.mu.Unlock()
		select {
		case <-more:
		case <-p.done:
			// One last look: the line may have come with the exit.
			p.mu.Lock()
			for _, line := range p.lines[min(from, len(p.lines)):] {
				if line["msg"] == msg {
					p.mu.Unlock()
					return line
				}
			}
			p.mu.Unlock()
			p.t.Fatalf("smileguard exited (%v) before logging %q\nstdout:\n%s\nstderr:\n%s", p.exitErr, msg, p.log(), p.errors())
		case <-deadline:
			p.t.Fatalf("smileguard did not log %q within %v\nstdout:\n%s\nstderr:\n%s", msg, timeout, p.log(), p.errors())
		}
	}
}

// logLen is the number of log lines so far.
func (p *proc) logLen() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.lines)
}

// log returns the whole log so far.
func (p *proc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.raw, "\n")
}

func (p *proc) errors() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

// signal sends sig to the process, by its pid.
func (p *proc) signal(sig syscall.Signal) {
	p.t.Helper()
	require.NoError(p.t, syscall.Kill(p.cmd.Process.Pid, sig))
}

// wait waits for the process to exit, at most timeout, and returns its
// exit status.
func (p *proc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("smileguard did not exit within %v\nstdout:\n%s", timeout, p.log())
	}
	return p.cmd.ProcessState.ExitCode()
}

// kill ends the process, by its pid, if it still runs, and waits for it.
func (p *proc) kill() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
}

func (p *proc) url(path string) string { return "http://" + p.addr + path }

func (p *proc) admin(t testing.TB, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + p.adminAddr + path)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// An upstream is the app behind the proxy: it records every request and
// answers with the status and after the delay it is set to.
type upstream struct {
	*httptest.Server
	mu       sync.Mutex
	received []received
	status   atomic.Int32 // 0: 200
	delay    atomic.Int64 // nanoseconds before answering
	hangUp   atomic.Bool  // close the connection without answering
	arrived  chan struct{}
	finished chan struct{}
}

type received struct {
	path   string
	header http.Header
	body   []byte
}

func newUpstream(t testing.TB) *upstream {
	u := &upstream{arrived: make(chan struct{}, 100), finished: make(chan struct{}, 100)}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.received = append(u.received, received{path: r.URL.Path, header: r.Header.Clone(), body: body})
		u.mu.Unlock()
		u.arrived <- struct{}{}
		defer func() { u.finished <- struct{}{} }()
		if d := time.Duration(u.delay.Load()); d > 0 {
			time.Sleep(d)
		}
		if u.hangUp.Load() {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		status := int(u.status.Load())
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "upstream says %d", status)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) count() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.received)
}

func (u *upstream) last() received {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.received[len(u.received)-1]
}

// waitFinished waits for n answers of the upstream's handler.
func (u *upstream) waitFinished(t testing.TB, n int) {
	t.Helper()
	for range n {
		select {
		case <-u.finished:
		case <-time.After(10 * time.Second):
			t.Fatal("the upstream's handler did not finish")
		}
	}
}

// callbackBody is a v1 callback body, unsigned; job makes it unique.
func callbackBody(job string) []byte {
	return []byte(`{"SmileJobID":"0000000001","PartnerParams":{"job_id":"` + job + `","user_id":"user-1","job_type":5},` +
		`"ResultType":"ID Verification","ResultText":"ID Number Validated","ResultCode":"1012","IsFinalResult":"true",` +
		`"Actions":{"Verify_ID_Number":"Verified"},"Country":"NG","IDType":"BVN","FullName":"ADA LOVELACE"}`)
}

// v3Body is a v3 callback body; its signature is in the headers.
func v3Body(job string) []byte {
	return []byte(`{"job_id":"` + job + `","user_id":"user_01hzx3v6k1y8f5m2c9t4q7w0ab","status":"clear","message":"Verified",` +
		`"product":"enhanced_kyc","partner_params":{"order":"42"},"created_at":"2026-11-21T10:00:00Z"}`)
}

// signed returns a body-signed callback for job, signed by key at t.
func signed(t testing.TB, key signer.Key, job string, at time.Time) []byte {
	t.Helper()
	body, err := signertest.SignCallback(key, callbackBody(job), at)
	require.NoError(t, err)
	return body
}

// stamps hands out timestamps a millisecond apart, so that no two
// callbacks of one key share a (signature, timestamp) pair by accident.
var stamps atomic.Int64

func init() { stamps.Store(time.Now().Add(-time.Minute).UnixMilli()) }

func fresh() time.Time { return time.UnixMilli(stamps.Add(1)) }

// headerSigned returns the signature headers of a v3 callback signed by
// key at t.
func headerSigned(key signer.Key, at time.Time) http.Header {
	ts := signer.FormatTimestamp(at)
	h := http.Header{}
	h.Set("Response-Signature", signer.Sign(key.APIKey, key.PartnerID, ts))
	h.Set("Response-Timestamp", ts)
	return h
}

// clientFrom returns an HTTP client whose connections come from the
// loopback address addr (Linux routes all of 127.0.0.0/8 to lo).
func clientFrom(addr string, timeout time.Duration) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(addr)}, Timeout: 5 * time.Second}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DialContext: dialer.DialContext, DisableKeepAlives: true}}
}

var defaultClient = clientFrom("127.0.0.1", 10*time.Second)

// post sends body to url with headers, through client, and returns the
// status and the answer's body.
func post(t testing.TB, client *http.Client, url string, body []byte, header http.Header) (int, string) {
	t.Helper()
	status, answer, err := tryPost(client, url, body, header)
	require.NoError(t, err)
	return status, answer
}

func tryPost(client *http.Client, url string, body []byte, header http.Header) (int, string, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	for name, values := range header {
		req.Header[name] = values
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(answer), err
}
