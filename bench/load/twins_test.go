package load

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

var (
	runTwins      = flag.Bool("twins", false, "measure same-millisecond twins: one key's genuine callbacks at Poisson rates of 10 and 100 a second, through guards without and with a Confirmer")
	twinsDuration = flag.Duration("twins-duration", 12*time.Second, "how long each rate of TestTwinRate is sent")
)

// twinRates are the rates TestTwinRate sends, in callbacks per second: a
// busy partner's, and ten times that, which shows about twenty times as
// many twins per second of test.
var twinRates = []float64{10, 100}

const (
	// twinTamperEvery: after one callback in this many, the same
	// signature and timestamp come again on its body with another
	// ResultCode, which no guard may admit, Confirmer or not.
	twinTamperEvery = 20
	twinResultCode  = `"ResultCode":"1012"` // in every callbacks.Body
	twinTampered    = `"ResultCode":"1022"`

	callbacksPerDayAt10 = 10 * 86_400
)

// TestTwinRate measures same-millisecond twins end to end. Smile ID signs
// a callback with its timestamp to the millisecond (FormatTimestamp's
// style), and the signature covers the timestamp and the partner id only,
// so two callbacks of one key signed in the same millisecond share one
// (signature, timestamp) pair: a guard cannot tell the second from a
// tampered replay of the first without asking Smile ID.
//
// At each rate of twinRates, for -twins-duration, genuine callbacks of one
// key, each for its own job, are sent at Poisson arrivals, each signed on
// the real clock at the instant it is sent, to two guards on loopback at
// once: one without a Confirmer and one whose Confirmer asks a fake Smile
// ID (POST /v1/job_status, signed answers). A twin is a callback whose
// timestamp an earlier one of the run already had. The test checks that
// the guard without a Confirmer refused exactly the twins (401) and handled
// every other callback once, that the one with a Confirmer handled every
// callback once and confirmed exactly the twins, and that a tampered body
// on a genuine pair is refused by both. It reports the twins measured
// beside the fraction Poisson arrivals give, and what that means per day.
func TestTwinRate(t *testing.T) {
	if !*runTwins {
		t.Skip("the twin measurement runs with -twins")
	}
	require.Contains(t, string(callbacks.Body("job", smallBody)), twinResultCode, "the member the tampered bodies change")
	smile := newTwinSmileID(t)
	var results []twinResult
	for _, rate := range twinRates {
		r := runTwinRate(t, smile, rate, *twinsDuration)
		results = append(results, r)
		assert.Empty(t, firstFew(r.problems), "%g a second: outcomes the guards must not give", rate)
		assert.Equal(t, r.twins, r.refused, "%g a second: twins refused without a Confirmer", rate)
		assert.Equal(t, r.twins, r.confirmed, "%g a second: twins confirmed", rate)
		assert.Equal(t, int64(r.twins+r.tampered), r.asked, "%g a second: questions to Smile ID: one per twin and per tampered body", rate)
		assert.NotZero(t, r.tampered, "%g a second: no tampered body was sent", rate)
	}
	assert.NotZero(t, results[len(results)-1].twins, "no twin at %g a second: the Confirmer was not exercised", twinRates[len(twinRates)-1])
	t.Log("\n" + twinSummary(results, *twinsDuration))
}

// twinCallback is one genuine callback of a run and what each guard
// answered it.
type twinCallback struct {
	job                string
	scheduled, signed  time.Time
	timestamp          string
	plain, confirming  twinAnswer
	tampered           bool
	tamperedPlain      twinAnswer
	tamperedConfirming twinAnswer
	handledPlain       int // times each guard's handler was given it
	handledConfirming  int
}

type twinAnswer struct {
	status int
	err    error
}

func (a twinAnswer) String() string {
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprint(a.status)
}

// twinResult is what one rate measured.
type twinResult struct {
	rate           float64
	callbacks      int
	twins          int // signed in a millisecond an earlier callback was signed in
	shared         int // signed in a millisecond another callback was signed in, the first included
	scheduledTwins int // the same count for the instants scheduled, before any timer's lateness
	refused        int // by the guard without a Confirmer (401)
	handledPlain   int
	handled        int // by the guard with a Confirmer
	confirmed      int
	tampered       int
	asked          int64 // questions the fake Smile ID answered
	lateness       []time.Duration
	problems       []string
}

// runTwinRate sends one rate for duration and counts what happened.
func runTwinRate(t *testing.T, smile *twinSmileID, rate float64, duration time.Duration) twinResult {
	plain := newTwinReceiver(t, nil)
	confirming := newTwinReceiver(t, smile.confirmer(t))
	askedBefore := smile.asked.Load()
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Second, DisableCompression: true},
		Timeout:   10 * time.Second,
	}
	defer client.CloseIdleConnections()
	post := func(url string, body []byte) twinAnswer {
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		if err != nil {
			return twinAnswer{err: err}
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return twinAnswer{status: resp.StatusCode, err: err}
	}

	// Poisson arrivals: exponential gaps of mean 1/rate, from a new seed
	// each run, so that runs are samples of their own; each on a timer of
	// its own, so that one late callback does not make the next one late.
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), uint64(rate)))
	begin := time.Now().Add(100 * time.Millisecond)
	var schedule []time.Time
	for at := begin; ; {
		at = at.Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
		if !at.Before(begin.Add(duration)) {
			break
		}
		schedule = append(schedule, at)
	}
	sent := make([]twinCallback, len(schedule))
	var wg sync.WaitGroup
	for i, at := range schedule {
		wg.Add(1)
		time.AfterFunc(time.Until(at), func() {
			defer wg.Done()
			c := &sent[i]
			c.scheduled, c.signed = at, time.Now()
			c.timestamp = signer.FormatTimestamp(c.signed)
			c.job = fmt.Sprintf("twin-%g-%d", rate, i)
			unsigned := callbacks.Body(c.job, smallBody)
			smile.know(unsigned) // Smile ID has the job's result before it calls back
			body := mustSign(signertest.SignCallbackWithTimestamp(twinKey, unsigned, c.timestamp))
			var both sync.WaitGroup
			both.Add(1)
			go func() { defer both.Done(); c.plain = post(plain.URL, body) }()
			c.confirming = post(confirming.URL, body)
			both.Wait()
			if i%twinTamperEvery == twinTamperEvery-1 {
				c.tampered = true
				tampered := bytes.Replace(body, []byte(twinResultCode), []byte(twinTampered), 1)
				c.tamperedPlain, c.tamperedConfirming = post(plain.URL, tampered), post(confirming.URL, tampered)
			}
		})
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(duration + 30*time.Second):
		t.Fatalf("%g a second: the callbacks were not all answered within %v of the end", rate, 30*time.Second)
	}

	handledPlain, _ := plain.snapshot()
	handled, confirmed := confirming.snapshot()
	for i := range sent {
		sent[i].handledPlain, sent[i].handledConfirming = handledPlain[sent[i].job], handled[sent[i].job]
	}
	r := judgeTwins(rate, sent)
	r.confirmed = confirmed
	r.asked = smile.asked.Load() - askedBefore
	return r
}

// judgeTwins counts the twins of a run and checks each guard's answers
// against them.
func judgeTwins(rate float64, sent []twinCallback) twinResult {
	r := twinResult{rate: rate, callbacks: len(sent)}
	byTimestamp := map[string]int{}
	byScheduled := map[int64]int{}
	for _, c := range sent {
		byTimestamp[c.timestamp]++
		byScheduled[c.scheduled.UnixMilli()]++
		r.lateness = append(r.lateness, c.signed.Sub(c.scheduled))
	}
	for _, n := range byTimestamp {
		r.twins += n - 1
		if n > 1 {
			r.shared += n
		}
	}
	for _, n := range byScheduled {
		r.scheduledTwins += n - 1
	}
	problem := func(c twinCallback, format string, args ...any) {
		r.problems = append(r.problems, fmt.Sprintf("%s (%d signed at %s): ", c.job, byTimestamp[c.timestamp], c.timestamp)+fmt.Sprintf(format, args...))
	}
	twinHandled := map[string]int{} // by timestamp: how many of its callbacks the plain guard handled
	for _, c := range sent {
		switch {
		case c.plain.err == nil && c.plain.status == http.StatusOK && c.handledPlain == 1:
			r.handledPlain++
			twinHandled[c.timestamp]++
		case c.plain.err == nil && c.plain.status == http.StatusUnauthorized && c.handledPlain == 0:
			r.refused++
			if byTimestamp[c.timestamp] < 2 {
				problem(c, "refused without a Confirmer, though no other callback has its timestamp")
			}
		default:
			problem(c, "without a Confirmer answered %v, handled %d times", c.plain, c.handledPlain)
		}
		if c.confirming.err == nil && c.confirming.status == http.StatusOK && c.handledConfirming == 1 {
			r.handled++
		} else {
			problem(c, "with a Confirmer answered %v, handled %d times", c.confirming, c.handledConfirming)
		}
		if c.tampered {
			r.tampered++
			if c.tamperedPlain.status != http.StatusUnauthorized || c.tamperedConfirming.status != http.StatusUnauthorized {
				problem(c, "its tampered copy answered %v without a Confirmer, %v with one", c.tamperedPlain, c.tamperedConfirming)
			}
		}
	}
	for ts, n := range twinHandled {
		if n != 1 {
			r.problems = append(r.problems, fmt.Sprintf("of the callbacks signed at %s, %d were handled without a Confirmer", ts, n))
		}
	}
	return r
}

// Poisson arrivals at rate λ put n ~ Poisson(x) callbacks, x = λ × 1 ms,
// in each millisecond: a fraction 1 − e^(−x) of the callbacks shares its
// millisecond with another, and a fraction 1 − (1 − e^(−x))/x (about x/2)
// comes second or later in its millisecond: those are the twins, the ones
// a guard without a Confirmer refuses.
func expectedShared(rate float64) float64 { return 1 - math.Exp(-rate/1000) }

func expectedTwins(rate float64) float64 {
	x := rate / 1000
	return 1 - (1-math.Exp(-x))/x
}

// wilson is the Wilson score interval, 95%, of a proportion k of n.
func wilson(k, n int) (low, high float64) {
	if n == 0 {
		return 0, 1
	}
	const z = 1.96
	p, nf := float64(k)/float64(n), float64(n)
	centre := (p + z*z/(2*nf)) / (1 + z*z/nf)
	half := z / (1 + z*z/nf) * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	return max(0, centre-half), min(1, centre+half)
}

// twinSummary is the closing report.
func twinSummary(results []twinResult, duration time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "twins: one key's genuine callbacks at Poisson arrivals for %v per rate, each signed when sent (milliseconds);\n", duration)
	fmt.Fprintf(&b, "a twin comes second or later in its millisecond; each is sent to a guard without a Confirmer and to one with one;\n")
	fmt.Fprintf(&b, "\"scheduled\" counts the twins of the Poisson instants themselves, before the timers' lateness moved them\n")
	fmt.Fprintf(&b, "%-6s %9s  %-34s %-38s %9s  %-14s %-26s %s\n", "rate", "callbacks", "twins: measured (95%) / expected",
		"in a shared ms: measured / expected", "scheduled", "no Confirmer", "Confirmer", "timer lateness p50, p99")
	for _, r := range results {
		low, high := wilson(r.twins, r.callbacks)
		fmt.Fprintf(&b, "%-6s %9d  %-34s %-38s %9d  %-14s %-26s %v, %v\n", fmt.Sprintf("%g/s", r.rate), r.callbacks,
			fmt.Sprintf("%d = %.3f%% (%.3f–%.3f%%) / %.3f%%", r.twins, pct(r.twins, r.callbacks), 100*low, 100*high, 100*expectedTwins(r.rate)),
			fmt.Sprintf("%d = %.3f%% / %.3f%%", r.shared, pct(r.shared, r.callbacks), 100*expectedShared(r.rate)),
			r.scheduledTwins,
			fmt.Sprintf("%d refused 401", r.refused),
			fmt.Sprintf("%d handled, %d confirmed", r.handled, r.confirmed),
			percentile(r.lateness, 50), percentile(r.lateness, 99))
		fmt.Fprintf(&b, "%-6s %9s  tampered copies %d: refused 401 by both; questions to Smile ID %d\n", "", "", r.tampered, r.asked)
	}
	fmt.Fprintf(&b, "per day at 10/s (%d callbacks): expected %.0f twins (refused without a Confirmer), %.0f callbacks in a shared millisecond\n",
		callbacksPerDayAt10, callbacksPerDayAt10*expectedTwins(10), callbacksPerDayAt10*expectedShared(10))
	for _, r := range results {
		if r.rate == 10 {
			low, high := wilson(r.twins, r.callbacks)
			fmt.Fprintf(&b, "  measured at 10/s: %d of %d, %.0f a day (95%%: %.0f to %.0f)\n", r.twins, r.callbacks,
				callbacksPerDayAt10*float64(r.twins)/float64(r.callbacks), callbacksPerDayAt10*low, callbacksPerDayAt10*high)
		}
	}
	return b.String()
}

func pct(k, n int) float64 {
	if n == 0 {
		return 0
	}
	return 100 * float64(k) / float64(n)
}
