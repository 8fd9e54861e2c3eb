package load

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

var (
	runOverhead      = flag.Bool("overhead", false, "measure what the guard costs in throughput: the receiver with and without it, 50 and 200 clients")
	overheadDuration = flag.Duration("overhead-duration", 10*time.Second, "measured time at each client count")
	overheadRounds   = flag.Int("overhead-rounds", 10, "parts the measured time is cut into, for the spread of the cost")
	overheadProfile  = flag.String("overhead-profile", "", "directory for CPU profiles of the server processes (server-guarded-200.prof: the guarded one's at 200 clients)")
)

// overheadClients are the client counts of the issue.
var overheadClients = []int{50, 200}

const (
	// overheadWarmup passes at each client count before it is measured:
	// the clients have dialled their connections, the pools are warm.
	overheadWarmup = time.Second
	// overheadMaxRequests bounds the requests to each server at each
	// client count, whatever the speed of the machine: below what the
	// guarded server's replay store takes. The measurement ends early if
	// it comes first.
	overheadMaxRequests = maxValid
	// serverEnv tells a child process of TestOverhead which server it is.
	serverEnv = "SMILEGUARD_OVERHEAD_SERVER"
)

// TestOverhead measures what the guard costs end to end: the receiver's
// routes and http.Server with the guard, and the same without it, sent
// genuine 2 KB callbacks, every one a new delivery from a Smile ID address
// through the trusted proxy, by 50 and then 200 clients on loopback.
//
// The two servers are child processes (TestOverheadServer), and each
// client sends to them in turn, request by request, so that both meet the
// same load from this machine's other tenants, which sways wall-clock
// figures several times over within seconds. Each server reports the CPU
// time it used; the clients' is this process's. On a machine the run had
// to itself, clients and server would share its cores, and throughput
// would be the cores over the CPU time of a request, the clients' share
// included: that is the figure reported for each server (requests per
// CPU-second), and the cost is the share of it the guard takes,
// 1 - (clients + bare server) / (clients + guarded server) per request.
// The server's own CPU time per request is reported beside it.
//
// It fails if any request gets another answer than 200 or does not reach
// the handler, as the figures would then measure something else; it
// asserts nothing of the figures themselves.
func TestOverhead(t *testing.T) {
	if !*runOverhead {
		t.Skip("the overhead measurement runs with -overhead")
	}
	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()

	var b strings.Builder
	fmt.Fprintf(&b, "overhead: %v measured at each client count (after %v), genuine 2 KB callbacks, a new delivery each\n",
		*overheadDuration, overheadWarmup)
	fmt.Fprintf(&b, "%-8s %9s %-32s %10s %10s %7s  %s\n", "clients", "req/s", "per request", "without", "with guard", "cost",
		fmt.Sprintf("quartiles of %d parts", *overheadRounds))
	for _, clients := range overheadClients {
		m := measureOverhead(t, clients, *overheadDuration, *overheadRounds)
		total, parts := m.total(), m.parts()
		fmt.Fprintf(&b, "%-8d %9.0f %-32s %10.0f %10.0f %6.1f%%  %s\n", clients, total.requestsPerSecond(),
			"requests/CPU-second, clients in", total.perCPUSecond(bare), total.perCPUSecond(guarded),
			total.cost()*100, quartiles(parts, overheadPart.cost))
		fmt.Fprintf(&b, "%-8s %9s %-32s %10.1f %10.1f %6.1f%%  %s\n", "", "", "server CPU µs",
			total.serverCPU(bare), total.serverCPU(guarded), total.serverCost()*100, quartiles(parts, overheadPart.serverCost))
		fmt.Fprintf(&b, "%-8s %9s %-32s %10.1f\n", "", "", "clients' CPU µs", total.clientCPU())
	}
	t.Log("\n" + b.String())

	goroutinesAfter := settledGoroutines(goroutinesBefore+goroutineSlack, settleTime)
	assert.LessOrEqual(t, goroutinesAfter, goroutinesBefore+goroutineSlack, "goroutines after the runs")
}

// The servers of a measurement, by index.
const (
	bare    = 0
	guarded = 1
)

// overheadSample is what the counters say at one instant.
type overheadSample struct {
	at        time.Time
	answered  [2]int64         // requests answered 200, by server
	serverCPU [2]time.Duration // CPU time used by each server process
	clientCPU time.Duration    // by this process: the clients
}

// overheadPart is what was measured between two samples.
type overheadPart struct{ from, to overheadSample }

func (p overheadPart) requests() int64 {
	return p.to.answered[bare] - p.from.answered[bare] + p.to.answered[guarded] - p.from.answered[guarded]
}

func (p overheadPart) requestsPerSecond() float64 {
	return float64(p.requests()) / p.to.at.Sub(p.from.at).Seconds()
}

// serverCPU is the server's CPU time per request, in microseconds.
func (p overheadPart) serverCPU(server int) float64 {
	n := p.to.answered[server] - p.from.answered[server]
	return float64(p.to.serverCPU[server]-p.from.serverCPU[server]) / float64(time.Microsecond) / float64(n)
}

// clientCPU is the clients' CPU time per request, in microseconds: the
// same whichever server the request goes to.
func (p overheadPart) clientCPU() float64 {
	return float64(p.to.clientCPU-p.from.clientCPU) / float64(time.Microsecond) / float64(p.requests())
}

// perCPUSecond is requests per second of CPU time, the clients' included.
func (p overheadPart) perCPUSecond(server int) float64 {
	return 1e6 / (p.clientCPU() + p.serverCPU(server))
}

func (p overheadPart) cost() float64 { return 1 - p.perCPUSecond(guarded)/p.perCPUSecond(bare) }

func (p overheadPart) serverCost() float64 { return 1 - p.serverCPU(bare)/p.serverCPU(guarded) }

// overheadMeasurement is the samples of one client count: at the end of
// the warm-up, then at the end of each part.
type overheadMeasurement []overheadSample

func (m overheadMeasurement) total() overheadPart {
	return overheadPart{from: m[0], to: m[len(m)-1]}
}

func (m overheadMeasurement) parts() []overheadPart {
	parts := make([]overheadPart, len(m)-1)
	for i := range parts {
		parts[i] = overheadPart{from: m[i], to: m[i+1]}
	}
	return parts
}

// quartiles formats the first and third quartiles of figure over parts.
func quartiles(parts []overheadPart, figure func(overheadPart) float64) string {
	values := make([]float64, len(parts))
	for i, p := range parts {
		values[i] = figure(p)
	}
	return fmt.Sprintf("%.1f%% to %.1f%%", quantile(values, 0.25)*100, quantile(values, 0.75)*100)
}

// measureOverhead starts both servers and the clients, samples the
// counters after the warm-up and at the end of each of rounds parts of
// duration, and stops it all.
func measureOverhead(t *testing.T, clients int, duration time.Duration, rounds int) overheadMeasurement {
	runtime.GC() // each client count starts from the same clean heap
	var servers [2]*serverProcess
	for i := range servers {
		sp, err := startServerProcess(t, i == guarded, clients)
		require.NoError(t, err)
		servers[i] = sp
	}
	var posts [2]*traffic
	for i, sp := range servers {
		client := overheadClient()
		defer client.CloseIdleConnections()
		posts[i] = &traffic{url: "http://" + sp.addr + receiver.CallbackPath, proxy: client}
	}
	sign := newOverheadSigner()

	var answered, requests [2]atomic.Int64
	var failed atomic.Int64
	var firstFailure atomic.Pointer[string]
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for id := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 3))
			maker := newCallbackMaker(id)
			for server := id % 2; !stopped.Load() && requests[server].Add(1) <= overheadMaxRequests; server = 1 - server {
				body, from := maker.next(rng, sign)
				o := posts[server].post(posts[server].proxy, body, from, false)
				if o.err != nil || o.status != http.StatusOK {
					failed.Add(1)
					msg := fmt.Sprintf("status %d, error %v", o.status, o.err)
					firstFailure.CompareAndSwap(nil, &msg)
					continue
				}
				answered[server].Add(1)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()

	sample := func() overheadSample {
		s := overheadSample{at: time.Now(), answered: [2]int64{answered[bare].Load(), answered[guarded].Load()}}
		s.clientCPU, _ = processCPU()
		for i, sp := range servers {
			cpu, _, err := sp.report()
			require.NoError(t, err, "server %d", i)
			s.serverCPU[i] = cpu
		}
		return s
	}
	time.Sleep(overheadWarmup)
	m := overheadMeasurement{sample()}
	for range rounds {
		select {
		case <-time.After(duration / time.Duration(rounds)):
		case <-finished: // the request bound came first
		}
		m = append(m, sample())
		if m[len(m)-1].answered == m[len(m)-2].answered {
			m = m[:len(m)-1] // nothing more to measure
			break
		}
	}
	stopped.Store(true)
	<-finished

	if msg := firstFailure.Load(); msg != nil {
		t.Fatalf("%d clients: %d requests not answered 200; the first: %s", clients, failed.Load(), *msg)
	}
	for i, sp := range servers {
		_, handled, err := sp.report()
		require.NoError(t, err)
		require.Equal(t, answered[i].Load(), handled, "requests answered 200 without reaching the handler")
		require.NoError(t, sp.stop(), "server %d", i)
	}
	require.Greater(t, len(m), 1, "nothing measured")
	return m
}

// overheadClient is the clients' connection pool to one server, from the
// trusted proxy's address, as clientFrom's.
func overheadClient() *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: proxyAddr.AsSlice()}, Timeout: 5 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        clients,
			MaxIdleConnsPerHost: clients,
			DisableCompression:  true,
			IdleConnTimeout:     time.Second, // see clientFrom
		},
		Timeout: 15 * time.Second,
	}
}

// serverProcess is a TestOverheadServer running in a child process: it
// answers each line on its stdin with its CPU time and the callbacks it
// handled, and stops when its stdin closes.
type serverProcess struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	addr  string
	done  chan error
}

// startServerProcess starts this test binary as the guarded or the bare
// server for a run of clients, and reads the address it listens on. The child is stopped by
// t.Cleanup if not before.
func startServerProcess(t *testing.T, guarded bool, clients int) (*serverProcess, error) {
	args := []string{"-test.run=^TestOverheadServer$", "-test.count=1", "-test.timeout=30m"}
	if *overheadProfile != "" {
		name := fmt.Sprintf("server-%s-%d.prof", map[bool]string{false: "bare", true: "guarded"}[guarded], clients)
		args = append(args, "-test.cpuprofile="+filepath.Join(*overheadProfile, name))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%v", serverEnv, guarded))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	sp := &serverProcess{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout), done: make(chan error, 1)}
	t.Cleanup(func() { _ = sp.stop() })
	line, err := sp.out.ReadString('\n')
	if _, err2 := fmt.Sscanf(line, "listening %s", &sp.addr); err != nil || err2 != nil {
		return nil, fmt.Errorf("server process: %q, %v", line, err)
	}
	go func() { sp.done <- cmd.Wait() }()
	return sp, nil
}

// report asks the server for its CPU time and the callbacks it handled.
func (sp *serverProcess) report() (cpu time.Duration, handled int64, err error) {
	if _, err := io.WriteString(sp.stdin, "report\n"); err != nil {
		return 0, 0, err
	}
	line, err := sp.out.ReadString('\n')
	if err != nil {
		return 0, 0, err
	}
	var nanos int64
	if _, err := fmt.Sscanf(line, "cpu %d handled %d", &nanos, &handled); err != nil {
		return 0, 0, fmt.Errorf("server process: %q: %w", line, err)
	}
	return time.Duration(nanos), handled, nil
}

// stop closes the server's stdin, which shuts it down gracefully, and
// waits for it; a server still running after the receiver's
// ShutdownTimeout and a margin is killed. Calls after the first return
// nil.
func (sp *serverProcess) stop() error {
	if sp.stdin == nil {
		return nil
	}
	sp.stdin.Close()
	sp.stdin = nil
	select {
	case err := <-sp.done:
		return err
	case <-time.After(receiver.ShutdownTimeout + 5*time.Second):
		_ = sp.cmd.Process.Kill()
		<-sp.done
		return errors.New("the server process did not stop")
	}
}

// TestOverheadServer is the server of TestOverhead in a child process; it
// is skipped otherwise. It serves on loopback, writes "listening ADDR",
// answers each line it reads with "cpu NANOSECONDS handled N", and shuts
// down gracefully when its stdin closes.
func TestOverheadServer(t *testing.T) {
	which := os.Getenv(serverEnv)
	if which == "" {
		t.Skip("the server of TestOverhead, run in a child process")
	}
	rr, handled, err := startOverheadServer(which == "true")
	require.NoError(t, err)
	fmt.Printf("listening %s\n", rr.addr)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cpu, _ := processCPU()
		fmt.Printf("cpu %d handled %d\n", cpu.Nanoseconds(), handled.Load())
	}
	require.NoError(t, rr.stop())
}

// startOverheadServer serves the receiver's routes with its http.Server
// settings on loopback: POST /smileid/callback behind the guard of
// receiver.NewGuard (the load test's configuration: the allowlist behind
// the trusted proxy, the rate limit raised out of the way, the verifier
// with its default replay store), or the same handler bare, and GET
// /healthz. It also returns the count of callbacks handled.
func startOverheadServer(guarded bool) (*runningReceiver, *atomic.Int64, error) {
	logger := slog.New(builtRecords{})
	handled := &atomic.Int64{}
	var callback http.Handler = overheadCallback(logger, handled)
	if guarded {
		guard, err := receiver.NewGuard(receiverConfig(), logger)
		if err != nil {
			return nil, nil, err
		}
		callback = guard.Handler(callback)
	}
	mux := http.NewServeMux()
	mux.Handle("POST "+receiver.CallbackPath, callback)
	mux.HandleFunc("GET /healthz", receiver.Healthz)
	srv := receiver.NewServer(mux, logger)
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr := &runningReceiver{
		url:    "http://" + ln.Addr().String() + receiver.CallbackPath,
		addr:   ln.Addr().String(),
		cancel: cancel,
		served: make(chan error, 1),
	}
	go func() { rr.served <- receiver.Serve(ctx, srv, ln) }()
	return rr, handled, nil
}

// overheadCallback does what the receiver's own callback handler does
// (examples/nethttp/receiver's handleCallback, which is not exported):
// decode the fields it acts on, log them, answer 200. It also counts its
// calls.
func overheadCallback(logger *slog.Logger, handled *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res struct {
			SmileJobID    string
			ResultCode    string
			ResultText    string
			PartnerParams struct {
				JobID  string `json:"job_id"`
				UserID string `json:"user_id"`
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&res); err != nil {
			http.Error(w, "unexpected callback fields", http.StatusBadRequest)
			return
		}
		cb, _ := middleware.CallbackFromContext(r.Context())
		logger.InfoContext(r.Context(), callbackReceived,
			"smile_job_id", res.SmileJobID, "job_id", res.PartnerParams.JobID,
			"result_code", res.ResultCode, "result_text", res.ResultText,
			"environment", string(cb.Environment), "key_id", cb.KeyID)
		handled.Add(1)
		w.WriteHeader(http.StatusOK)
	})
}

// builtRecords is the log of the overhead servers: every record is built,
// as for any enabled logger, and then dropped, so that neither server
// pays for the log's output, which depends on where it goes.
type builtRecords struct{}

func (builtRecords) Enabled(context.Context, slog.Level) bool  { return true }
func (builtRecords) Handle(context.Context, slog.Record) error { return nil }
func (b builtRecords) WithAttrs([]slog.Attr) slog.Handler      { return b }
func (b builtRecords) WithGroup(string) slog.Handler           { return b }

// overheadSigner hands out the timestamps of a run: each delivery its own
// millisecond, from two minutes back, so that all are fresh and no two
// share a signature.
type overheadSigner struct{ signedAt atomic.Int64 }

func newOverheadSigner() *overheadSigner {
	s := &overheadSigner{}
	s.signedAt.Store(time.Now().Add(-2 * time.Minute).UnixMilli())
	return s
}

// callbackMaker makes one client's callbacks: a body for each of Smile
// ID's environments, whose timestamp and signature are written anew for
// each request, so that signing costs the client about a microsecond and
// the two servers are compared on what they do.
type callbackMaker struct {
	bodies [2]makerBody // production, sandbox
}

type makerBody struct {
	key                  signer.Key
	body                 []byte
	timestamp, signature []byte // within body
}

func newCallbackMaker(id int) *callbackMaker {
	m := &callbackMaker{}
	for i, key := range []signer.Key{productionKey, sandboxKey} {
		body := mustSign(signertest.SignCallback(key, callbacks.Body(fmt.Sprintf("overhead-%d", id), smallBody), time.Now()))
		m.bodies[i] = makerBody{key: key, body: body,
			timestamp: member(body, `"timestamp":"`), signature: member(body, `"signature":"`)}
	}
	return m
}

// next returns a new delivery from a random Smile ID address, and that
// address. The body is the maker's own, rewritten by the next call: the
// caller is done with it once it has read the answer.
func (m *callbackMaker) next(rng *rand.Rand, s *overheadSigner) (body []byte, from string) {
	key, from := source(rng)
	b := &m.bodies[0]
	if key.Environment == signer.Sandbox {
		b = &m.bodies[1]
	}
	ts := signer.FormatTimestamp(time.UnixMilli(s.signedAt.Add(1)))
	copy(b.timestamp, ts)
	copy(b.signature, signer.Sign(key.APIKey, key.PartnerID, ts))
	return b.body, from
}

// member returns the contents of the last string member of body that
// opens with open.
func member(body []byte, open string) []byte {
	i := bytes.LastIndex(body, []byte(open)) + len(open)
	end := i + bytes.IndexByte(body[i:], '"')
	return body[i:end:end]
}

// quantile returns the q-quantile of values, interpolating between the
// two nearest.
func quantile(values []float64, q float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	pos := q * float64(len(s)-1)
	i := int(pos)
	if i+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[i] + (pos-float64(i))*(s[i+1]-s[i])
}
