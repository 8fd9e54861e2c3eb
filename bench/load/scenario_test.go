package load

import (
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// A scenario is one kind of request of the mix.
type scenario int

const (
	valid     scenario = iota // a new genuine callback through the proxy: 200, handled once
	retry                     // a handled callback sent again byte for byte: 200, not handled again
	duplicate                 // a new genuine callback sent twice at once: 200, and 200 or 409; handled once
	forged                    // signed with a key that is not the receiver's: 401
	stale                     // signed 6 minutes ago: 401
	tampered                  // a handled callback's signature and timestamp on another body: 401
	spoofed                   // genuine, X-Forwarded-For naming Smile ID, from an untrusted peer: 403
	oversized                 // 2 MiB + 1 KB, with its length declared or chunked: 413
	slow                      // a genuine body trickled a byte every 100 ms: cut by ReadTimeout
	scenarios
)

var scenarioNames = [scenarios]string{
	valid: "valid", retry: "exact retry", duplicate: "duplicate in flight", forged: "forged signature",
	stale: "stale timestamp", tampered: "tampered replay", spoofed: "spoofed header", oversized: "oversized body",
	slow: "slow body",
}

func (s scenario) String() string { return scenarioNames[s] }

// expectedStatus lists the answers each scenario may get. A slow body may
// also see the server close the connection without an answer: see
// sendSlow.
var expectedStatus = [scenarios][]int{
	valid:     {200},
	retry:     {200},
	duplicate: {200, 409},
	forged:    {401},
	stale:     {401},
	tampered:  {401},
	spoofed:   {403},
	oversized: {413},
	slow:      {400, 408, 413},
}

func (s scenario) expects(status int) bool { return slices.Contains(expectedStatus[s], status) }

// wellBehaved reports whether a request of s is sent as a client that
// means no harm would send it: it must get an answer, never a reset, and
// its latency counts. Only slow bodies are not.
func (s scenario) wellBehaved() bool { return s != slow }

// mix is the weight of each scenario in the traffic of the mixed clients;
// the slow bodies have clients of their own (slowClients).
var mix = [scenarios]int{
	valid:     30,
	retry:     15,
	duplicate: 5,
	forged:    10,
	stale:     10,
	tampered:  10,
	spoofed:   15,
	oversized: 2,
}

// pick returns the scenario that n, from 0 to the sum of mix, falls on.
func pick(n int) scenario {
	for s, w := range mix {
		if n < w {
			return scenario(s)
		}
		n -= w
	}
	return valid
}

func mixTotal() int {
	total := 0
	for _, w := range mix {
		total += w
	}
	return total
}

// TestScenarioAccepts pins the answers the load test takes beside the
// expected statuses: a 400 for an oversized body only once the server's
// ReadTimeout could have ended it, and a closed connection for a slow body
// only.
func TestScenarioAccepts(t *testing.T) {
	for _, tt := range []struct {
		s    scenario
		o    outcome
		want bool
	}{
		{oversized, outcome{status: http.StatusRequestEntityTooLarge, latency: time.Millisecond}, true},
		{oversized, outcome{status: http.StatusBadRequest, latency: readTimeout + time.Millisecond}, true},
		{oversized, outcome{status: http.StatusBadRequest, latency: readTimeout - time.Millisecond}, false},
		{oversized, outcome{status: http.StatusOK, latency: readTimeout + time.Millisecond}, false},
		{valid, outcome{status: http.StatusBadRequest, latency: readTimeout + time.Millisecond}, false},
		{slow, outcome{err: io.ErrUnexpectedEOF, latency: readTimeout}, true},
		{valid, outcome{err: io.ErrUnexpectedEOF}, false},
	} {
		if got := tt.s.accepts(tt.o); got != tt.want {
			t.Errorf("%v accepts %+v: %v, want %v", tt.s, tt.o, got, tt.want)
		}
	}
}
