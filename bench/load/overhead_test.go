package load

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
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
	overheadRounds   = flag.Int("overhead-rounds", 5, "rounds of the overhead measurement: each runs both servers at each client count")
	overheadDuration = flag.Duration("overhead-duration", 5*time.Second, "measured time of each run of the overhead measurement")
)

// overheadClients are the client counts of the issue.
var overheadClients = []int{50, 200}

const (
	// overheadWarmup passes before a run is measured: the clients have
	// dialled their connections, and the pools are warm.
	overheadWarmup = 500 * time.Millisecond
	// overheadMaxRequests bounds each run, whatever the speed of the
	// machine; below what the guarded server's replay store takes.
	overheadMaxRequests = maxValid
)

// TestOverhead measures what the guard costs end to end: the receiver's
// routes and http.Server with the guard, and the same without it, each
// sent genuine 2 KB callbacks, every one a new delivery from a Smile ID
// address through the trusted proxy, by 50 and then 200 clients on
// loopback. The runs alternate (without, with; then with, without), each
// on a new server, and the cost is the median over rounds of the
// throughput lost within a round.
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

	throughput := map[int]map[bool][]float64{}
	costs := map[int][]float64{}
	for _, clients := range overheadClients {
		throughput[clients] = map[bool][]float64{}
	}
	for round := range *overheadRounds {
		order := []bool{false, true}
		if round%2 == 1 {
			order = []bool{true, false}
		}
		for _, clients := range overheadClients {
			got := map[bool]float64{}
			for _, guarded := range order {
				run := measureOverhead(t, guarded, clients, *overheadDuration)
				t.Logf("round %d, %d clients, guard %v: %.0f requests/s (%d requests measured)",
					round+1, clients, guarded, run.throughput, run.measured)
				got[guarded] = run.throughput
				throughput[clients][guarded] = append(throughput[clients][guarded], run.throughput)
			}
			costs[clients] = append(costs[clients], 1-got[true]/got[false])
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "overhead: %d rounds of %v measured per run (after %v), genuine 2 KB callbacks, a new delivery each\n",
		*overheadRounds, *overheadDuration, overheadWarmup)
	fmt.Fprintf(&b, "%-8s %18s %18s %10s  %s\n", "clients", "without (req/s)", "with guard (req/s)", "cost", "cost in each round")
	for _, clients := range overheadClients {
		each := make([]string, len(costs[clients]))
		for i, c := range costs[clients] {
			each[i] = fmt.Sprintf("%.1f%%", c*100)
		}
		fmt.Fprintf(&b, "%-8d %18.0f %18.0f %9.1f%%  %s\n", clients, median(throughput[clients][false]),
			median(throughput[clients][true]), median(costs[clients])*100, strings.Join(each, " "))
	}
	t.Log("\n" + b.String())

	goroutinesAfter := settledGoroutines(goroutinesBefore+goroutineSlack, settleTime)
	assert.LessOrEqual(t, goroutinesAfter, goroutinesBefore+goroutineSlack, "goroutines after the runs")
}

// overheadRun is what one run measured.
type overheadRun struct {
	throughput float64 // answered requests a second, in the measured time
	measured   int64   // requests answered in the measured time
}

// measureOverhead runs one server, guarded or not, under clients for the
// warm-up and then duration, and stops it and its clients.
func measureOverhead(t *testing.T, guarded bool, clients int, duration time.Duration) overheadRun {
	runtime.GC() // each run starts from the same clean heap
	rr, handled, err := startOverheadServer(guarded)
	require.NoError(t, err)
	defer func() { require.NoError(t, rr.stop(), "graceful shutdown") }()
	client := clientFrom(proxyAddr)
	defer client.CloseIdleConnections()
	tr := &traffic{url: rr.url}
	sign := newOverheadSigner()

	var answered, requests, failed atomic.Int64
	var firstFailure atomic.Pointer[string]
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for id := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 3))
			maker := newCallbackMaker(id)
			for !stopped.Load() && requests.Add(1) <= overheadMaxRequests {
				body, from := maker.next(rng, sign)
				o := tr.post(client, body, from, false)
				if o.err != nil || o.status != http.StatusOK {
					failed.Add(1)
					msg := fmt.Sprintf("status %d, error %v", o.status, o.err)
					firstFailure.CompareAndSwap(nil, &msg)
					continue
				}
				answered.Add(1)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()

	time.Sleep(overheadWarmup)
	from, start := answered.Load(), time.Now()
	select {
	case <-time.After(duration):
	case <-finished: // the request bound came first
	}
	measured, elapsed := answered.Load()-from, time.Since(start)
	stopped.Store(true)
	<-finished

	if msg := firstFailure.Load(); msg != nil {
		t.Fatalf("guard %v, %d clients: %d requests not answered 200; the first: %s", guarded, clients, failed.Load(), *msg)
	}
	require.Equal(t, answered.Load(), handled.Load(), "requests answered 200 without reaching the handler")
	require.NotZero(t, measured, "no request answered in the measured time")
	return overheadRun{throughput: float64(measured) / elapsed.Seconds(), measured: measured}
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

func median(values []float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
