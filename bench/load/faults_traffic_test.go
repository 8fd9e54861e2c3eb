//go:build unix

package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// The Smile ID of TestLoadFaults, as far as its delivery is known. No
// official source states its retry counts or timing (integrators report
// about three retries); this one is a little more patient, so that what
// the test checks is the guard, not the model: a delivery is retried on
// any answer but a 2xx, and on no answer at all within its wait, after
// each pause of smileIDBackoff in turn, to the other instance each time
// (the load balancer's round robin), and to the survivor only once one is
// known dead.
var smileIDBackoff = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}

// smileIDWait is how long Smile ID waits for one answer: well over what
// an attempt takes here even when Redis is stalled (its timeout, then the
// answer), so that no attempt is given up on while it runs.
const smileIDWait = 5 * time.Second

// The kinds of request of the fault test's mix.
type faultScenario int

const (
	faultGenuine  faultScenario = iota // a new genuine callback, delivered with retries: handled at least once
	faultForged                        // signed with a key that is not the proxy's: 401
	faultStale                         // signed 6 minutes ago: 401
	faultTampered                      // a delivered callback's signature and timestamp on another body: 401 (503 while Redis is stopped)
	faultReplay                        // a delivered callback sent again byte for byte: 200, not handled again (409 or 503 from Redis's stop on)
	faultScenarios
)

var faultScenarioNames = [faultScenarios]string{
	faultGenuine: "genuine (attempts)", faultForged: "forged signature", faultStale: "stale timestamp",
	faultTampered: "tampered replay", faultReplay: "exact replay",
}

func (s faultScenario) String() string { return faultScenarioNames[s] }

// faultMix is the weight of each scenario.
var faultMix = [faultScenarios]int{faultGenuine: 60, faultForged: 10, faultStale: 10, faultTampered: 10, faultReplay: 10}

func pickFault(n int) faultScenario {
	for s, w := range faultMix {
		if n < w {
			return faultScenario(s)
		}
		n -= w
	}
	return faultGenuine
}

// faultKey is the proxies' key: the genuine callbacks are signed with it.
var faultKey = signer.Key{ID: "faults-production", PartnerID: "1622", APIKey: "faults-production-api-key", Environment: signer.Production}

// The instances, by index.
const (
	instanceA = 0 // killed mid-run
	instanceB = 1 // the survivor
)

var instanceNames = [2]string{"a", "b"}

// An attempt is one request of a delivery and what it got.
type attempt struct {
	instance   int
	start, end time.Time
	status     int   // 0 if no answer
	err        error // the client's error, if any
}

func (a attempt) ok() bool { return a.err == nil && a.status >= 200 && a.status < 300 }

// genuineCallback is one genuine callback and every attempt at delivering
// it. One goroutine at a time owns it: the client that sent it first, then
// the retry that took it over.
type genuineCallback struct {
	job       string
	timestamp string
	body      []byte
	attempts  []attempt
}

func (c *genuineCallback) delivered() bool {
	return len(c.attempts) > 0 && c.attempts[len(c.attempts)-1].ok()
}

func attemptID(job string, n int) string { return job + "#" + strconv.Itoa(n) }

// hostileAttempt is one request of a hostile scenario.
type hostileAttempt struct {
	scenario faultScenario
	attempt
}

// faultClient is what one client sent: its own, merged at the end.
type faultClient struct {
	genuine []*genuineCallback
	hostile []hostileAttempt
}

// faultRun is what the clients, the retries and the faults share.
type faultRun struct {
	urls   [2]string // the callback endpoints of instances a and b
	client *http.Client
	killed atomic.Bool // instance a is dead: everything goes to b

	signedAt    atomic.Int64 // the Unix millisecond of the last genuine callback
	genuineLeft atomic.Int64
	requests    atomic.Int64
	delivered   pairRing
	retries     sync.WaitGroup
}

func newFaultRun(a, b *faultProxy, start time.Time) *faultRun {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	r := &faultRun{
		urls: [2]string{a.url(), b.url()},
		client: &http.Client{
			Transport: &http.Transport{
				DialContext:         dialer.DialContext,
				MaxIdleConns:        2 * faultClients,
				MaxIdleConnsPerHost: faultClients,
				DisableCompression:  true,
				IdleConnTimeout:     time.Second, // see clientFrom
			},
			Timeout: smileIDWait,
		},
	}
	// Three minutes back leaves room for 180,000 callbacks a millisecond
	// apart, all inside the proxies' 5 minute tolerance to the end.
	r.signedAt.Store(start.Add(-3 * time.Minute).UnixMilli())
	r.genuineLeft.Store(faultMaxGenuine)
	return r
}

// instance returns where an attempt goes: at random for a first one, to
// the other instance than the last for a retry, to the survivor once
// instance a is dead.
func (r *faultRun) instance(rng *rand.Rand, last int) int {
	switch {
	case r.killed.Load():
		return instanceB
	case last < 0:
		return rng.IntN(2)
	}
	return 1 - last
}

// clientLoop sends the mix until the run ends.
func (r *faultRun) clientLoop(id int, until time.Time, c *faultClient) {
	rng := rand.New(rand.NewPCG(uint64(id), 4))
	total := 0
	for _, w := range faultMix {
		total += w
	}
	for n := 0; time.Now().Before(until) && r.requests.Add(1) <= faultMaxRequests; n++ {
		r.send(rng, pickFault(rng.IntN(total)), fmt.Sprintf("%d-%d", id, n), c)
	}
}

func (r *faultRun) send(rng *rand.Rand, s faultScenario, tag string, c *faultClient) {
	if s == faultGenuine && r.genuineLeft.Add(-1) < 0 {
		s = faultForged
	}
	// A hostile request's attempt header names it, so that the upstream
	// would tell which one got through.
	hostile := func(body []byte) {
		a := r.post(r.instance(rng, -1), body, fmt.Sprintf("hostile-%d-%s", s, tag))
		c.hostile = append(c.hostile, hostileAttempt{scenario: s, attempt: a})
	}
	switch s {
	case faultGenuine:
		job := "genuine-" + tag
		ts := signer.FormatTimestamp(time.UnixMilli(r.signedAt.Add(1)))
		cb := &genuineCallback{job: job, timestamp: ts,
			body: mustSign(signertest.SignCallbackWithTimestamp(faultKey, callbacks.Body(job, smallBody), ts))}
		c.genuine = append(c.genuine, cb)
		r.deliver(rng, cb)
	case faultForged:
		hostile(mustSign(signertest.SignCallback(strangerKey, callbacks.Body("forged-"+tag, smallBody), time.Now())))
	case faultStale:
		hostile(mustSign(signertest.SignCallback(faultKey, callbacks.Body("stale-"+tag, smallBody), time.Now().Add(-6*time.Minute))))
	case faultTampered:
		d, ok := r.delivered.pick(rng)
		if !ok {
			r.send(rng, faultForged, tag, c)
			return
		}
		// The same key and timestamp make the same signature: a delivered
		// callback's pair on a body of the attacker's choosing.
		hostile(mustSign(signertest.SignCallbackWithTimestamp(faultKey, callbacks.Body("tampered-"+tag, smallBody), d.timestamp)))
	case faultReplay:
		d, ok := r.delivered.pick(rng)
		if !ok {
			r.send(rng, faultForged, tag, c)
			return
		}
		hostile(d.body)
	}
}

// deliver makes the first attempt at cb; if it fails, a retry goroutine
// takes cb over, and the client goes on with new traffic, as Smile ID's
// retry queue does not hold up its other deliveries.
func (r *faultRun) deliver(rng *rand.Rand, cb *genuineCallback) {
	r.try(cb, r.instance(rng, -1))
	if cb.delivered() {
		r.delivered.add(cb)
		return
	}
	r.retries.Add(1)
	go func() {
		defer r.retries.Done()
		for _, pause := range smileIDBackoff {
			time.Sleep(pause)
			r.try(cb, r.instance(nil, cb.attempts[len(cb.attempts)-1].instance)) // a retry: no choice to make
			if cb.delivered() {
				r.delivered.add(cb)
				return
			}
		}
	}()
}

// try makes one attempt at cb on instance i.
func (r *faultRun) try(cb *genuineCallback, i int) {
	cb.attempts = append(cb.attempts, r.post(i, cb.body, attemptID(cb.job, len(cb.attempts))))
}

// post sends body to instance i with the attempt header and reads the
// whole answer. An answer broken off after its status is no answer.
func (r *faultRun) post(i int, body []byte, id string) attempt {
	a := attempt{instance: i, start: time.Now()}
	req, err := http.NewRequest(http.MethodPost, r.urls[i], bytes.NewReader(body))
	if err != nil {
		a.err, a.end = err, time.Now()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(attemptHeader, id)
	resp, err := r.client.Do(req)
	if err != nil {
		a.err, a.end = err, time.Now()
		return a
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	a.end = time.Now()
	if err != nil {
		a.err = fmt.Errorf("status %d, then: %w", resp.StatusCode, err)
		return a
	}
	a.status = resp.StatusCode
	return a
}

// pairRing keeps the last genuine callbacks answered 2xx, for the tampered
// and the exact replays: several seconds of them, so that replays come
// both soon after a delivery and long after, when a claim that was never
// finished has lapsed.
type pairRing struct {
	mu    sync.Mutex
	items [16384]delivered
	n     int
}

type delivered struct {
	timestamp string
	body      []byte
}

func (p *pairRing) add(cb *genuineCallback) {
	p.mu.Lock()
	p.items[p.n%len(p.items)] = delivered{cb.timestamp, cb.body}
	p.n++
	p.mu.Unlock()
}

func (p *pairRing) pick(rng *rand.Rand) (delivered, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n == 0 {
		return delivered{}, false
	}
	return p.items[rng.IntN(min(p.n, len(p.items)))], true
}

// attemptClass names an attempt's outcome for the summary: its status, or
// its error's class.
func attemptClass(a attempt) string {
	if a.err == nil {
		return strconv.Itoa(a.status)
	}
	var netErr *net.OpError
	if errors.As(a.err, &netErr) && netErr.Op == "dial" {
		return "refused"
	}
	return errorClass(a.err)
}
