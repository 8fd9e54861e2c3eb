package load

import (
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
)

var runLoad = flag.Bool("load", false, "run the load test: 20 s of traffic from 200 clients on loopback")

// The run's bounds and the bounds it is held to.
const (
	duration    = 20 * time.Second
	clients     = 200
	slowClients = 10        // of the clients, those that send slow bodies; the others send the mix
	maxRequests = 2_000_000 // whatever the speed of the machine, the run ends by then

	// maxValid keeps the new deliveries under what the receiver's
	// in-memory replay store takes (middleware.DefaultMaxReplayEntries
	// live at once, each for ten minutes): past it the store refuses new
	// callbacks with 503, by design, and the load test would measure that.
	maxValid = middleware.DefaultMaxReplayEntries * 8 / 10

	heapBound      = 256 << 20 // bytes of heap in use, the clients' included
	goroutineSlack = 2         // runtime goroutines that may come and go
	settleTime     = 10 * time.Second
)

// TestLoad runs the receiver of examples/nethttp under 20 seconds of mixed
// traffic and checks what it promises: each genuine callback handled
// exactly once, no other handled at all, an answer to every well-behaved
// request and never a 5xx, a bounded heap, and no goroutine left behind.
func TestLoad(t *testing.T) {
	if !*runLoad {
		t.Skip("the load test runs with -load")
	}
	runtime.GC()
	goroutinesBefore := runtime.NumGoroutine()

	rr, err := startReceiver()
	require.NoError(t, err)
	stopped := false
	defer func() {
		if !stopped {
			rr.stop()
		}
	}()
	start := time.Now()
	tr := newTraffic(rr, start)
	heap := sampleHeap(100 * time.Millisecond)

	until := start.Add(duration)
	tallies := make([]*tally, clients)
	var wg sync.WaitGroup
	for id := range clients {
		tallies[id] = newTally()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if id < slowClients {
				tr.slowClient(id, until, tallies[id])
			} else {
				tr.mixedClient(id, until, tallies[id])
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	maxHeap := heap.stop()

	tr.proxy.CloseIdleConnections()
	tr.untrusted.CloseIdleConnections()
	require.NoError(t, rr.stop(), "graceful shutdown")
	stopped = true
	goroutinesAfter := settledGoroutines(goroutinesBefore+goroutineSlack, settleTime)

	total := newTally()
	for _, tl := range tallies {
		total.merge(tl)
	}
	handled := rr.log.handled()
	t.Log("\n" + summary(total, handled, elapsed, maxHeap, goroutinesBefore, goroutinesAfter))

	// Every new genuine callback reached the handler exactly once.
	wantHandled := map[string]int{}
	for _, job := range total.validJobs {
		wantHandled[job] = 1
	}
	var missing, repeated, intruders []string
	for job := range wantHandled {
		switch handled[job] {
		case 0:
			missing = append(missing, job)
		case 1:
		default:
			repeated = append(repeated, job)
		}
	}
	// No other did: no forged, stale, tampered, spoofed, oversized or
	// slow one, whose job ids all differ from the genuine ones.
	for job := range handled {
		if wantHandled[job] == 0 {
			intruders = append(intruders, job)
		}
	}
	assert.Empty(t, firstFew(missing), "genuine callbacks never handled")
	assert.Empty(t, firstFew(repeated), "genuine callbacks handled more than once")
	assert.Empty(t, firstFew(intruders), "callbacks handled that are not genuine and new")
	assert.Zero(t, total.duplicatesUnhandled, "in-flight duplicate pairs with no 200")
	assert.NotZero(t, total.sent[valid], "no genuine callback was sent")

	// Every request got one of the answers its scenario expects: no 5xx,
	// no reset; a slow body was ended by the server.
	for s := range scenarios {
		assert.Zero(t, total.unexpected[s], "%v: unexpected outcomes: statuses %v, errors %v; the first: %s",
			scenario(s), total.statuses[s], total.errors[s], total.firstUnexpected[s])
		assert.NotZero(t, total.sent[s], "%v: none sent", scenario(s))
	}
	// The slow bodies were ended by the server's ReadTimeout, not sooner.
	require.NotEmpty(t, total.slowCuts, "no slow body was sent")
	assert.GreaterOrEqual(t, percentile(total.slowCuts, 0), readTimeout, "the first slow body to end")

	assert.Empty(t, rr.log.errors, "records logged at Error level")
	assert.Empty(t, rr.log.serverErrors, "http.Server's own error log")

	assert.Less(t, maxHeap, uint64(heapBound), "heap in use")
	assert.LessOrEqual(t, goroutinesAfter, goroutinesBefore+goroutineSlack, "goroutines after the run")
}

// heapSampler records the largest HeapInuse it sees.
type heapSampler struct {
	done chan struct{}
	max  chan uint64
}

// sampleHeap reads runtime.MemStats every interval until stop.
func sampleHeap(interval time.Duration) *heapSampler {
	h := &heapSampler{done: make(chan struct{}), max: make(chan uint64)}
	go func() {
		var peak uint64
		var m runtime.MemStats
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-tick.C:
			case <-h.done:
				h.max <- peak
				return
			}
		}
	}()
	return h
}

// stop ends the sampling and returns the largest HeapInuse seen.
func (h *heapSampler) stop() uint64 {
	close(h.done)
	return <-h.max
}

// settledGoroutines waits up to wait for the goroutine count to fall to
// target, and returns the count.
func settledGoroutines(target int, wait time.Duration) int {
	deadline := time.Now().Add(wait)
	for {
		n := runtime.NumGoroutine()
		if n <= target || time.Now().After(deadline) {
			return n
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// firstFew returns up to ten of s, sorted, so that a failure stays
// readable.
func firstFew(s []string) []string {
	slices.Sort(s)
	return s[:min(len(s), 10)]
}

// summary is the closing report of the run.
func summary(t *tally, handled map[string]int, elapsed time.Duration, maxHeap uint64, before, after int) string {
	var b strings.Builder
	requests := 0
	for s := range scenarios {
		requests += t.sent[s]
	}
	fmt.Fprintf(&b, "load: %d requests in %.1f s from %d clients: %.0f requests/s\n",
		requests, elapsed.Seconds(), clients, float64(requests)/elapsed.Seconds())
	fmt.Fprintf(&b, "latency of well-behaved requests: p50 %v, p99 %v, max %v\n",
		percentile(t.latencies, 50), percentile(t.latencies, 99), percentile(t.latencies, 100))
	if len(t.slowCuts) > 0 {
		fmt.Fprintf(&b, "slow bodies ended by the server after %v to %v (ReadTimeout %v)\n",
			percentile(t.slowCuts, 0), percentile(t.slowCuts, 100), readTimeout)
	}
	handledTotal := 0
	for _, n := range handled {
		handledTotal += n
	}
	fmt.Fprintf(&b, "genuine callbacks sent %d, handled %d times, distinct %d\n", len(t.validJobs), handledTotal, len(handled))
	fmt.Fprintf(&b, "heap in use at most %.1f MiB (bound %d MiB); goroutines %d before, %d after\n",
		float64(maxHeap)/(1<<20), heapBound>>20, before, after)
	fmt.Fprintf(&b, "%-20s %9s  %-30s %s\n", "scenario", "requests", "answers", "client errors")
	for s := range scenarios {
		fmt.Fprintf(&b, "%-20s %9d  %-30s %s\n", scenario(s), t.sent[s], counts(t.statuses[s]), counts(t.errors[s]))
	}
	return b.String()
}

// counts formats a count per key, sorted by key.
func counts[K int | string](m map[K]int) string {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%v: %d", k, m[k])
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// percentile returns the p-th percentile of d (0: the least, 100: the
// largest), rounded to the microsecond.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := min(len(s)*p/100, len(s)-1)
	return s[i].Round(time.Microsecond)
}
