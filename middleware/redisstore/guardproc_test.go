//go:build unix

package redisstore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// The crash and stall tests run guards as processes of their own, so that
// one can be killed outright: the test binary, started again with
// guardEnv set, serves a middleware.Guard with the Redis store until its
// standard input closes (see runGuard).
const guardEnv = "SMILEGUARD_TEST_GUARD"

func TestMain(m *testing.M) {
	if os.Getenv(guardEnv) != "" {
		os.Exit(runGuard())
	}
	os.Exit(m.Run())
}

// guardOptions configure one guard process.
type guardOptions struct {
	name    string        // in the record file
	block   bool          // the handler never returns
	delay   time.Duration // the handler takes this long
	lease   time.Duration // of every claim
	timeout time.Duration // of every call to Redis
}

// runGuard is a guard process: a middleware.Guard with the Redis store at
// $REDIS_ADDR in front of a handler that appends "start <name> <body>" and
// "done <name> <body>" lines to $RECORD (the body named by its hash), on
// 127.0.0.1. It prints its address, then serves until its standard input
// closes: the test that started it has ended, or died.
func runGuard() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "guard:", err)
		return 1
	}
	env := func(name string) string { return os.Getenv("SMILEGUARD_TEST_" + name) }
	duration := func(name string) time.Duration {
		d, _ := time.ParseDuration(env(name))
		return d
	}
	opts := guardOptions{name: env("NAME"), block: env("BLOCK") != "", delay: duration("DELAY"),
		lease: duration("LEASE"), timeout: duration("TIMEOUT")}
	record, err := os.OpenFile(env("RECORD"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fail(err)
	}
	client := redis.NewClient(&redis.Options{Addr: env("REDIS_ADDR"), ContextTimeoutEnabled: true,
		DialTimeout: opts.timeout, ReadTimeout: opts.timeout, WriteTimeout: opts.timeout})
	// Connections open and past their handshake, as a guard that has run
	// for a while has them, so that a call to a stopped Redis is written
	// to it, not stuck in a new connection's handshake.
	var conns []*redis.Conn
	for i := 0; i < guardIdleConns; i++ {
		c := client.Conn()
		if err := c.Ping(context.Background()).Err(); err != nil {
			return fail(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Close()
	}
	store, err := NewReplayStore(client, ReplayConfig{Prefix: "crash:", Timeout: opts.timeout})
	if err != nil {
		return fail(err)
	}
	local, err := allowlist.ParseSet("loopback", "127.0.0.1")
	if err != nil {
		return fail(err)
	}
	ring, err := signer.NewKeyring(productionKey)
	if err != nil {
		return fail(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{local}},
		Callback: middleware.CallbackConfig{
			Keyring: ring,
			Replay:  leased{ReplayStore: store, lease: opts.lease, record: record, name: opts.name},
			Logger:  logger,
		},
	})
	if err != nil {
		return fail(err)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		id := bodyID(body)
		fmt.Fprintf(record, "start %s %s\n", opts.name, id)
		if opts.block {
			select {}
		}
		time.Sleep(opts.delay)
		fmt.Fprintf(record, "done %s %s\n", opts.name, id)
		io.WriteString(w, "handled")
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fail(err)
	}
	fmt.Println(l.Addr().String())
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		os.Exit(0)
	}()
	return fail((&http.Server{Handler: guard.Handler(handler), ReadHeaderTimeout: 5 * time.Second}).Serve(l))
}

// guardIdleConns is how many connections to Redis a guard keeps open.
const guardIdleConns = 4

// leased gives every claim the guard's lease, if it has one (the
// verifier's default is 10 s; most tests need short ones), and records
// every Renew.
type leased struct {
	middleware.ReplayStore
	lease  time.Duration
	record io.Writer
	name   string
}

func (l leased) Begin(ctx context.Context, d middleware.Delivery) (middleware.ReplayState, error) {
	if l.lease > 0 {
		d.Lease = l.lease
	}
	return l.ReplayStore.Begin(ctx, d)
}

func (l leased) Renew(ctx context.Context, d middleware.Delivery) error {
	if l.lease > 0 {
		d.Lease = l.lease
	}
	err := l.ReplayStore.Renew(ctx, d)
	fmt.Fprintf(l.record, "renew %s %s %v\n", l.name, hex.EncodeToString(d.BodyHash[:6]), err == nil)
	return err
}

func bodyID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:6])
}

// guardProcess is a running guard.
type guardProcess struct {
	name   string
	url    string
	cmd    *exec.Cmd
	exited chan struct{}
}

// startGuard starts a guard process for t, on srv, recording to record,
// and kills it by its pid when t ends.
func startGuard(t *testing.T, srv *redisServer, record string, opts guardOptions) *guardProcess {
	t.Helper()
	logs := filepath.Join(t.TempDir(), opts.name+".log")
	logFile, err := os.Create(logs)
	require.NoError(t, err)
	defer logFile.Close()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), guardEnv+"=1",
		"SMILEGUARD_TEST_NAME="+opts.name, "SMILEGUARD_TEST_RECORD="+record, "SMILEGUARD_TEST_REDIS_ADDR="+srv.Addr(),
		"SMILEGUARD_TEST_LEASE="+opts.lease.String(), "SMILEGUARD_TEST_TIMEOUT="+opts.timeout.String(),
		"SMILEGUARD_TEST_DELAY="+opts.delay.String())
	if opts.block {
		cmd.Env = append(cmd.Env, "SMILEGUARD_TEST_BLOCK=1")
	}
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = logFile
	require.NoError(t, cmd.Start())
	g := &guardProcess{name: opts.name, cmd: cmd, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(g.exited)
	}()
	t.Cleanup(func() {
		stdin.Close()
		g.kill()
		if t.Failed() {
			out, _ := os.ReadFile(logs)
			t.Logf("guard %s logged:\n%s", opts.name, out)
		}
	})
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		require.NotEmpty(t, a, "guard %s did not start", opts.name)
		g.url = "http://" + a + "/smileid/callback"
	case <-time.After(10 * time.Second):
		t.Fatalf("guard %s did not start within 10 s", opts.name)
	}
	return g
}

// kill kills the guard at once (SIGKILL, by its pid), as the OOM killer or
// a deploy past its grace would, and waits for it to go.
func (g *guardProcess) kill() {
	_ = g.cmd.Process.Kill()
	<-g.exited
}

// signal sends sig to the Redis server, by its pid.
func (s *redisServer) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(sig))
}

// smileID delivers callbacks as Smile ID does: a POST, and after anything
// but a 2xx (or no answer within its timeout) a retry after a pause that
// doubles, up to a few attempts. Which guard each attempt goes to is up
// to the load balancer: round robin.
type smileID struct {
	guards   []*guardProcess
	attempts int
	first    time.Duration // the first pause; it doubles up to most
	most     time.Duration
	client   *http.Client
}

func newSmileID(timeout time.Duration, guards ...*guardProcess) *smileID {
	return &smileID{guards: guards, attempts: 12, first: 100 * time.Millisecond, most: 500 * time.Millisecond,
		client: &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}}
}

// answer is what one attempt got: its status (0: no answer) and when.
type answer struct {
	status int
	at     time.Time
}

// post sends body to g once.
func (s *smileID) post(g *guardProcess, body []byte) answer {
	resp, err := s.client.Post(g.url, "application/json", bytes.NewReader(body))
	if err != nil {
		return answer{0, time.Now()}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return answer{resp.StatusCode, time.Now()}
}

// deliver delivers body until a 2xx or the last attempt, and returns every
// answer.
func (s *smileID) deliver(body []byte) []answer {
	var answers []answer
	pause := s.first
	for i := 0; i < s.attempts; i++ {
		a := s.post(s.guards[i%len(s.guards)], body)
		answers = append(answers, a)
		if a.status >= 200 && a.status < 300 {
			break
		}
		time.Sleep(pause)
		pause = min(2*pause, s.most)
	}
	return answers
}

func statuses(answers []answer) []int {
	out := make([]int, len(answers))
	for i, a := range answers {
		out[i] = a.status
	}
	return out
}

func handled(answers []answer) bool {
	last := answers[len(answers)-1].status
	return last >= 200 && last < 300
}

// runs counts the handler's runs of body in the record: started and done,
// by any guard.
func runs(t *testing.T, record string, body []byte) (started, done int) {
	started, done, _ = records(t, record, body)
	return started, done
}

// records counts the lines of body in the record: runs started and done,
// and successful renewals of its claims.
func records(t *testing.T, record string, body []byte) (started, done, renewed int) {
	t.Helper()
	b, err := os.ReadFile(record)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	id := bodyID(body)
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && f[2] == id {
			switch f[0] {
			case "start":
				started++
			case "done":
				done++
			}
		}
		if len(f) == 4 && f[0] == "renew" && f[2] == id && f[3] == "true" {
			renewed++
		}
	}
	return started, done, renewed
}

// genuine returns n callbacks signed now, a millisecond apart.
func genuine(t *testing.T, n int) [][]byte {
	bodies := make([][]byte, n)
	now := time.Now()
	for i := range bodies {
		b, err := signertest.SignCallback(productionKey, []byte(callbackBody), now.Add(time.Duration(i)*time.Millisecond))
		require.NoError(t, err)
		bodies[i] = b
	}
	return bodies
}

// waitFor polls cond every few milliseconds for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Now()
}
