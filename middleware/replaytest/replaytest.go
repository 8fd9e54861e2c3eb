// Package replaytest checks that a middleware.ReplayStore keeps the
// semantics the callback verifier relies on. The in-memory store and the
// Redis store (middleware/redisstore) both pass it; a store of your own
// should too:
//
//	func TestMyStore(t *testing.T) {
//		replaytest.Run(t, func(t *testing.T) middleware.ReplayStore { return newMyStore(t) })
//	}
package replaytest

import (
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
)

// now is the clock of the deliveries Run makes. It is whole milliseconds:
// a store may keep times to the millisecond as long as it rounds toward
// remembering longer.
var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// ttl is the lifetime of the deliveries Run makes: the verifier's default
// (twice a 5 minute tolerance and a second).
const ttl = 10*time.Minute + time.Second

// Run checks the store semantics in subtests. newStore is called once per
// subtest and must return an empty store (or one that has never seen the
// deliveries Run makes).
func Run(t *testing.T, newStore func(t *testing.T) middleware.ReplayStore) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, &checker{t: t, store: newStore(t)})
		})
	}
	t.Run("of concurrent claims of one delivery exactly one wins", func(t *testing.T) {
		concurrentClaims(t, newStore(t))
	})
}

// newDelivery returns a delivery at now with ttl whose ID and body hash
// are derived from id and body.
func newDelivery(id, body string) middleware.Delivery {
	return middleware.Delivery{ID: sha256.Sum256([]byte(id)), BodyHash: sha256.Sum256([]byte(body)), Now: now, TTL: ttl, Lease: ttl}
}

// at returns d seen at now+elapsed.
func at(d middleware.Delivery, elapsed time.Duration) middleware.Delivery {
	d.Now = now.Add(elapsed)
	return d
}

// checker runs Begin and Finish and checks what they answer. Each Begin
// is a new attempt with a token of its own; Finish uses the token of the
// last attempt that claimed the delivery.
type checker struct {
	t       *testing.T
	store   middleware.ReplayStore
	counter byte
	holders map[[32]byte][16]byte
}

func (c *checker) begin(d middleware.Delivery, want middleware.ReplayState, msg string) {
	c.t.Helper()
	c.counter++
	d.Token[0] = c.counter
	got, err := c.store.Begin(context.Background(), d)
	require.NoError(c.t, err, msg)
	assert.Equal(c.t, want.String(), got.String(), msg)
	if got == middleware.ReplayNew {
		if c.holders == nil {
			c.holders = map[[32]byte][16]byte{}
		}
		c.holders[d.ID] = d.Token
	}
}

func (c *checker) finish(d middleware.Delivery, handled bool) {
	c.t.Helper()
	d.Token = c.holders[d.ID]
	err := c.store.Finish(context.Background(), d, handled)
	if err != nil && !errors.Is(err, middleware.ErrClaimLost) {
		require.NoError(c.t, err)
	}
}

// d and other are one (signature, timestamp) pair with two bodies.
var (
	d     = newDelivery("pair", "body")
	other = newDelivery("pair", "another body")
)

var cases = []struct {
	name string
	run  func(t *testing.T, c *checker)
}{
	{"a new delivery is claimed once and then in flight", func(t *testing.T, c *checker) {
		c.begin(d, middleware.ReplayNew, "first")
		c.begin(d, middleware.ReplayInFlight, "second")
		c.begin(d, middleware.ReplayInFlight, "third")
	}},
	{"another body is a conflict in every state", func(t *testing.T, c *checker) {
		c.begin(d, middleware.ReplayNew, "claim")
		c.begin(other, middleware.ReplayConflict, "in flight")
		c.finish(d, false)
		c.begin(other, middleware.ReplayConflict, "released entries keep their body")
		c.begin(d, middleware.ReplayNew, "re-claim")
		c.finish(d, true)
		c.begin(other, middleware.ReplayConflict, "handled")
	}},
	{"finishing with another body changes nothing", func(t *testing.T, c *checker) {
		c.begin(d, middleware.ReplayNew, "claim")
		c.finish(other, true)
		c.begin(d, middleware.ReplayInFlight, "after a handled finish with another body")
		c.finish(other, false)
		c.begin(d, middleware.ReplayInFlight, "after a release with another body")
	}},
	{"a released delivery is claimed again by its next delivery only", func(t *testing.T, c *checker) {
		c.begin(d, middleware.ReplayNew, "claim")
		c.finish(d, false)
		c.begin(d, middleware.ReplayNew, "re-claim")
		c.begin(d, middleware.ReplayInFlight, "the re-claim is in flight")
		c.finish(d, false)
		c.finish(d, false)
		c.begin(d, middleware.ReplayNew, "released twice, claimed once")
		c.begin(d, middleware.ReplayInFlight, "then in flight")
	}},
	{"a handled delivery is acknowledged and cannot be released", func(t *testing.T, c *checker) {
		c.begin(d, middleware.ReplayNew, "claim")
		c.finish(d, true)
		c.begin(d, middleware.ReplayHandled, "handled")
		c.finish(d, false)
		c.begin(d, middleware.ReplayHandled, "still handled after a release")
		c.finish(d, true)
		c.begin(d, middleware.ReplayHandled, "still handled after a second finish")
	}},
	{"finishing an unknown delivery creates nothing", func(t *testing.T, c *checker) {
		c.finish(d, true)
		c.finish(d, false)
		c.begin(d, middleware.ReplayNew, "claim after stray finishes")
	}},
	{"deliveries are remembered for their TTL, not a nanosecond longer", func(t *testing.T, c *checker) {
		c.begin(d, middleware.ReplayNew, "claim")
		c.finish(d, true)
		c.begin(at(d, ttl-time.Nanosecond), middleware.ReplayHandled, "just before the TTL")
		c.begin(at(d, ttl), middleware.ReplayNew, "at the TTL the ID starts over")
		c.begin(at(d, ttl), middleware.ReplayInFlight, "as a new claim")
	}},
	{"an expired delivery starts over with any body", func(t *testing.T, c *checker) {
		c.begin(d, middleware.ReplayNew, "claim")
		c.begin(at(other, ttl-time.Nanosecond), middleware.ReplayConflict, "just before the TTL")
		c.begin(at(other, ttl), middleware.ReplayNew, "at the TTL")
		c.begin(at(d, ttl), middleware.ReplayConflict, "bound to the new body")
	}},
	{"the TTL runs from the first claim and is never extended", func(t *testing.T, c *checker) {
		c.begin(d, middleware.ReplayNew, "claim")
		c.finish(at(d, ttl/2), false)
		c.begin(at(d, ttl/2), middleware.ReplayNew, "re-claim halfway")
		c.finish(at(d, ttl/2), true)
		c.begin(at(d, ttl-time.Nanosecond), middleware.ReplayHandled, "just before the first claim's TTL")
		c.begin(at(d, ttl), middleware.ReplayNew, "the re-claim did not extend it")
	}},
	{"a delivery's TTL is its own", func(t *testing.T, c *checker) {
		short := d
		short.TTL = time.Minute
		c.begin(short, middleware.ReplayNew, "claim with a one minute TTL")
		c.begin(at(short, time.Minute), middleware.ReplayNew, "gone after a minute")
	}},
	{"different IDs are independent", func(t *testing.T, c *checker) {
		second := newDelivery("another pair", "body")
		c.begin(d, middleware.ReplayNew, "first ID")
		c.begin(second, middleware.ReplayNew, "second ID, same body")
		c.finish(d, true)
		c.begin(second, middleware.ReplayInFlight, "the second is still in flight")
		c.finish(second, false)
		c.begin(d, middleware.ReplayHandled, "the first is still handled")
	}},
}

// concurrentClaims begins one delivery from 50 goroutines at once.
func concurrentClaims(t *testing.T, store middleware.ReplayStore) {
	const n = 50
	var wg sync.WaitGroup
	states := make(chan middleware.ReplayState, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			d := d
			d.Token[0] = byte(i + 1)
			s, err := store.Begin(context.Background(), d)
			assert.NoError(t, err)
			states <- s
		}()
	}
	close(start)
	wg.Wait()
	close(states)
	counts := map[middleware.ReplayState]int{}
	for s := range states {
		counts[s]++
	}
	assert.Equal(t, map[middleware.ReplayState]int{middleware.ReplayNew: 1, middleware.ReplayInFlight: n - 1}, counts)
}
