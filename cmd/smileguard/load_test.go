package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

var (
	runLoad      = flag.Bool("load", false, "run the load test: 200 loopback clients against a trivial upstream, directly and through the proxy")
	loadRound    = flag.Duration("load-round", 4*time.Second, "how long each round of the load test lasts")
	loadRounds   = flag.Int("load-rounds", 3, "rounds of each kind, interleaved")
	loadLogLevel = flag.String("load-log-level", "info", "the proxy's --log-level in the load test")
	loadRate     = flag.Float64("load-rate", 0, "requests per second all clients send together; 0: as fast as answers come (closed loop)")
)

// The load test's bounds.
const (
	loadClients      = 200
	loadMaxRequests  = 300_000 // per round, whatever the speed of the machine
	loadKeys         = 8       // each signs its own millisecond sequence
	loadBodyBytes    = 2 << 10 // the usual callback, as bench/load sends
	loadReplayBudget = 90_000  // of the proxy's 100,000 in-memory replay entries
)

// TestLoad compares the proxy in front of a trivial upstream with the
// upstream alone: 200 loopback clients, each sending freshly signed
// callbacks (all distinct) one after another on keep-alive connections,
// for rounds of each kind interleaved. It logs the throughput ratio and
// the latency percentiles; the goal is at least 70% of the direct
// throughput and at most 2 ms added at p99. Speed is not asserted (the
// machine is shared); correctness is: every request through the proxy is
// answered 200 by the upstream, and the upstream sees each once.
//
//	go test -run TestLoad -v -load .
func TestLoad(t *testing.T) {
	if !*runLoad {
		t.Skip("the load test runs with -load")
	}
	var seen atomic.Int64
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		seen.Add(1)
		io.WriteString(w, "ok")
	}))
	up.Config.ReadHeaderTimeout = 5 * time.Second
	up.Start()
	defer up.Close()

	keys := make([]signer.Key, loadKeys)
	for i := range keys {
		keys[i] = signer.Key{ID: "load-" + strconv.Itoa(i), PartnerID: "1622", APIKey: "load-api-key-" + strconv.Itoa(i), Environment: signer.Production}
	}
	p := startProxy(t, nil, "--keys-file", writeKeys(t, "", keys...), "--allow-production", "127.0.0.0/8",
		"--rate", "0", "--upstream", up.URL, "--log-level", *loadLogLevel)
	p.discard.Store(true)
	signers := newLoadSigners(keys, time.Now(), loadReplayBudget)
	// The direct rounds sign as much, from signers of their own: the
	// upstream keeps no replay store to fill.
	directSigners := newLoadSigners(keys, time.Now(), 1<<40)

	// A bare httputil.ReverseProxy to the same upstream, without the
	// guard: what a second hop costs on this machine by itself, the bound
	// of any proxy's ratio here.
	target, err := url.Parse(up.URL)
	require.NoError(t, err)
	bare := httptest.NewServer(&httputil.ReverseProxy{
		Rewrite:   func(pr *httputil.ProxyRequest) { pr.SetURL(target) },
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 512, DisableCompression: true},
	})
	defer bare.Close()

	var direct, bareProxied, proxied []loadResult
	for round := range *loadRounds {
		direct = append(direct, loadRun(t, up.URL+"/smileid/callback", directSigners))
		bareProxied = append(bareProxied, loadRun(t, bare.URL+"/smileid/callback", directSigners))
		before := seen.Load()
		r := loadRun(t, p.url("/smileid/callback"), signers)
		proxied = append(proxied, r)
		assert.Zero(t, r.failed, "round %d: requests through the proxy not answered 200: %v", round, r.statuses)
		assert.Equal(t, int64(r.ok), seen.Load()-before, "round %d: each callback reached the upstream once", round)
	}

	var b strings.Builder
	offered := "closed loop"
	if *loadRate > 0 {
		offered = fmt.Sprintf("offered %.0f req/s", *loadRate)
	}
	fmt.Fprintf(&b, "%d clients, %s, %d rounds of %v each kind, interleaved, proxy --log-level %s\n", loadClients, offered, *loadRounds, *loadRound, *loadLogLevel)
	for i := range direct {
		fmt.Fprintf(&b, "  round %d: direct %s | bare ReverseProxy %s | proxy %s\n", i+1, direct[i], bareProxied[i], proxied[i])
	}
	d, bp, q := medians(direct), medians(bareProxied), medians(proxied)
	fmt.Fprintf(&b, "medians of the rounds: throughput direct %.0f req/s, bare ReverseProxy %.0f req/s (%.1f%%), proxy %.0f req/s, ratio %.1f%% (%.1f%% of the bare ReverseProxy)\n",
		d.rate, bp.rate, 100*bp.rate/d.rate, q.rate, 100*q.rate/d.rate, 100*q.rate/bp.rate)
	fmt.Fprintf(&b, "  p50 %v -> %v (%+v), p99 %v -> %v (%+v)\n", d.p50.Round(10*time.Microsecond), q.p50.Round(10*time.Microsecond),
		(q.p50 - d.p50).Round(10*time.Microsecond), d.p99.Round(10*time.Microsecond), q.p99.Round(10*time.Microsecond), (q.p99 - d.p99).Round(10*time.Microsecond))
	t.Log("\n" + b.String())
}

// loadSigners hand out fresh callbacks: each key signs at its own
// timestamps a millisecond apart, so no two callbacks share a (signature,
// timestamp) pair, all within the proxy's tolerance.
type loadSigners struct {
	keys  []signer.Key
	next  []atomic.Int64 // per key, the next Unix millisecond
	n     atomic.Int64
	limit int64
}

func newLoadSigners(keys []signer.Key, start time.Time, limit int64) *loadSigners {
	s := &loadSigners{keys: keys, next: make([]atomic.Int64, len(keys)), limit: limit}
	for i := range s.next {
		// Four minutes back leaves 240,000 milliseconds per key inside
		// the five minute tolerance.
		s.next[i].Store(start.Add(-4 * time.Minute).UnixMilli())
	}
	return s
}

// callback returns a fresh signed callback, and false once the proxy's
// replay store would be as full as this test lets it be.
func (s *loadSigners) callback(job string) ([]byte, bool) {
	n := s.n.Add(1)
	if n > s.limit {
		return nil, false
	}
	k := int(n) % len(s.keys)
	ts := signer.FormatTimestamp(time.UnixMilli(s.next[k].Add(1)))
	body, err := signertest.SignCallbackWithTimestamp(s.keys[k], callbacks.Body(job, loadBodyBytes), ts)
	if err != nil {
		panic(err)
	}
	return body, true
}

// loadResult is one round.
type loadResult struct {
	ok, failed int
	statuses   map[string]int
	elapsed    time.Duration
	rate       float64 // answered requests per second
	p50, p99   time.Duration
}

func (r loadResult) String() string {
	return fmt.Sprintf("%6.0f req/s p50 %-9v p99 %-9v (%d requests)", r.rate, r.p50.Round(10*time.Microsecond), r.p99.Round(10*time.Microsecond), r.ok+r.failed)
}

// loadRun sends callbacks to url from loadClients clients for one round.
func loadRun(t *testing.T, url string, signers *loadSigners) loadResult {
	t.Helper()
	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        loadClients,
		MaxIdleConnsPerHost: loadClients,
		IdleConnTimeout:     time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()
	client := &http.Client{Transport: transport, Timeout: 10 * time.Second}

	var requests atomic.Int64
	var mu sync.Mutex
	var latencies []time.Duration
	res := loadResult{statuses: map[string]int{}}
	start := time.Now()
	until := start.Add(*loadRound)
	var wg sync.WaitGroup
	for c := range loadClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			ok, failed := 0, 0
			statuses := map[string]int{}
			// With -load-rate, each client sends its share on a schedule,
			// from a staggered start; behind it, it sends at once.
			var interval time.Duration
			if *loadRate > 0 {
				interval = time.Duration(float64(loadClients) / *loadRate * float64(time.Second))
			}
			next := start.Add(interval * time.Duration(c) / loadClients)
			for n := 0; time.Now().Before(until) && requests.Add(1) <= loadMaxRequests; n++ {
				if interval > 0 {
					time.Sleep(time.Until(next))
					next = next.Add(interval)
				}
				body, fresh := signers.callback(fmt.Sprintf("load-%d-%d", c, n))
				if !fresh {
					break
				}
				begin := time.Now()
				status, err := loadPost(client, url, body)
				mine = append(mine, time.Since(begin))
				if err == nil && status == http.StatusOK {
					ok++
					continue
				}
				failed++
				if err != nil {
					statuses[err.Error()]++
				} else {
					statuses[strconv.Itoa(status)]++
				}
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			res.ok += ok
			res.failed += failed
			for k, v := range statuses {
				res.statuses[k] += v
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	require.NotEmpty(t, latencies, "no request was sent: the replay budget is spent")
	slices.Sort(latencies)
	res.rate = float64(res.ok+res.failed) / res.elapsed.Seconds()
	res.p50 = latencies[len(latencies)*50/100]
	res.p99 = latencies[len(latencies)*99/100]
	return res
}

func loadPost(client *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}

// medians returns the median of the rounds' throughputs, p50s and p99s,
// each taken on its own.
func medians(rounds []loadResult) loadResult {
	median := func(values []float64) float64 {
		slices.Sort(values)
		return values[len(values)/2]
	}
	var rates, p50s, p99s []float64
	for _, r := range rounds {
		rates = append(rates, r.rate)
		p50s = append(p50s, float64(r.p50))
		p99s = append(p99s, float64(r.p99))
	}
	return loadResult{rate: median(rates), p50: time.Duration(median(p50s)), p99: time.Duration(median(p99s))}
}
