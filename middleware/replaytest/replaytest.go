// Package replaytest checks that a middleware.ReplayStore keeps the
// semantics the callback verifier relies on: one claim per delivery at a
// time, bound to the body it first came with, leased to one attempt's
// token, and remembered for its TTL and while its timestamp is fresh. The
// in-memory store and the Redis store (middleware/redisstore) both pass it;
// a store of your own should too:
//
//	func TestMyStore(t *testing.T) {
//		replaytest.Run(t, func(t *testing.T) middleware.ReplayStore { return newMyStore(t) })
//	}
//
// It needs nothing beyond the standard library.
package replaytest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/smileguard/smileguard/middleware"
)

// now is the clock of the deliveries Run makes. It is whole milliseconds:
// a store may keep times to the millisecond as long as it rounds toward
// remembering longer and holding claims longer.
var now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const (
	// ttl is the lifetime of the deliveries Run makes: the verifier's
	// default (twice a 5 minute tolerance and a second).
	ttl = 10*time.Minute + time.Second

	// lease is how long the claims Run makes hold without Renew: the
	// verifier's default.
	lease = 10 * time.Second

	// ns and ms are the least steps of the clock: a store may round
	// times to the millisecond.
	ns = time.Nanosecond
	ms = time.Millisecond
)

// Run checks the store semantics in subtests. newStore is called once per
// subtest and must return an empty store (or one that has never seen the
// deliveries Run makes).
func Run(t *testing.T, newStore func(t *testing.T) middleware.ReplayStore) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(&checker{t: t, store: newStore(t)})
		})
	}
	t.Run("of concurrent claims of one delivery exactly one wins", func(t *testing.T) {
		c := &checker{t: t, store: newStore(t)}
		c.race(d, "new")
	})
	t.Run("of concurrent takeovers of a lapsed claim exactly one wins", func(t *testing.T) {
		c := &checker{t: t, store: newStore(t)}
		c.begin(d, middleware.ReplayNew, "claim")
		c.race(at(d, lease), "lapsed")
	})
}

// newDelivery returns a delivery at now, with ttl and lease, whose ID and
// body hash are derived from pair and body.
func newDelivery(pair, body string) middleware.Delivery {
	return middleware.Delivery{
		ID:        sha256.Sum256([]byte(pair)),
		BodyHash:  sha256.Sum256([]byte(body)),
		Timestamp: []byte("2026-11-21T10:00:00.000Z"),
		Now:       now,
		TTL:       ttl,
		Lease:     lease,
	}
}

// d and other are one (signature, timestamp) pair with two bodies.
var (
	d     = newDelivery("pair", "body")
	other = newDelivery("pair", "another body")
)

// at returns d (or an attempt) seen at now+elapsed.
func at(d middleware.Delivery, elapsed time.Duration) middleware.Delivery {
	d.Now = now.Add(elapsed)
	return d
}

// withBody returns attempt a with the body hash of b: the same token, the
// wrong body.
func withBody(a, b middleware.Delivery) middleware.Delivery {
	a.BodyHash = b.BodyHash
	return a
}

// checker calls a store and checks what it answers. Each begin is a new
// attempt with a token of its own, which it returns for renew, finish and
// retry.
type checker struct {
	t      *testing.T
	store  middleware.ReplayStore
	tokens uint64
}

// attempt returns d with a token no other attempt of the test has.
func (c *checker) attempt(d middleware.Delivery) middleware.Delivery {
	c.tokens++
	d.Token[0] = 0x5a // never the zero token
	binary.BigEndian.PutUint64(d.Token[8:], c.tokens)
	return d
}

// begin makes a new attempt at d, checks what Begin answers and returns
// the attempt.
func (c *checker) begin(d middleware.Delivery, want middleware.ReplayState, msg string) middleware.Delivery {
	c.t.Helper()
	a := c.attempt(d)
	c.retry(a, want, msg)
	return a
}

// retry calls Begin again for attempt a, with its token.
func (c *checker) retry(a middleware.Delivery, want middleware.ReplayState, msg string) {
	c.t.Helper()
	got, err := c.store.Begin(context.Background(), a)
	if err != nil {
		c.t.Fatalf("%s: Begin: %v", msg, err)
	}
	if got != want {
		c.t.Errorf("%s: Begin answered %q, want %q", msg, got, want)
	}
}

// renew calls Renew for attempt a and checks its error: nil or
// middleware.ErrClaimLost.
func (c *checker) renew(a middleware.Delivery, want error, msg string) {
	c.t.Helper()
	c.check("Renew", c.store.Renew(context.Background(), a), want, msg)
}

// finish calls Finish for attempt a and checks its error: nil or
// middleware.ErrClaimLost.
func (c *checker) finish(a middleware.Delivery, handled bool, want error, msg string) {
	c.t.Helper()
	c.check("Finish", c.store.Finish(context.Background(), a, handled), want, msg)
}

func (c *checker) check(op string, err, want error, msg string) {
	c.t.Helper()
	switch {
	case want == nil && err != nil:
		c.t.Errorf("%s: %s: %v, want no error", msg, op, err)
	case want != nil && !errors.Is(err, want):
		c.t.Errorf("%s: %s: %v, want %v", msg, op, err, want)
	}
}

// race makes 50 attempts at d at once: exactly one must claim it.
func (c *checker) race(d middleware.Delivery, msg string) {
	c.t.Helper()
	const n = 50
	attempts := make([]middleware.Delivery, n)
	for i := range attempts {
		attempts[i] = c.attempt(d)
	}
	states := make([]middleware.ReplayState, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range attempts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			s, err := c.store.Begin(context.Background(), attempts[i])
			if err != nil {
				c.t.Errorf("%s: Begin: %v", msg, err)
			}
			states[i] = s
		}()
	}
	close(start)
	wg.Wait()
	won := -1
	for i, s := range states {
		switch s {
		case middleware.ReplayNew:
			if won >= 0 {
				c.t.Errorf("%s: attempts %d and %d both claimed the delivery", msg, won, i)
			}
			won = i
		case middleware.ReplayInFlight:
		default:
			c.t.Errorf("%s: attempt %d: Begin answered %q", msg, i, s)
		}
	}
	if won < 0 {
		c.t.Fatalf("%s: no attempt claimed the delivery", msg)
	}
	c.renew(attempts[won], nil, msg+": the winner holds the claim")
	for i, a := range attempts {
		if i != won {
			c.renew(a, middleware.ErrClaimLost, msg+": a loser does not")
		}
	}
}

var lost = middleware.ErrClaimLost

var cases = []struct {
	name string
	run  func(c *checker)
}{
	{"a new delivery is claimed once and then in flight", func(c *checker) {
		c.begin(d, middleware.ReplayNew, "first")
		c.begin(d, middleware.ReplayInFlight, "second")
		c.begin(d, middleware.ReplayInFlight, "third")
	}},
	{"another body is a conflict in every state", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.begin(other, middleware.ReplayConflict, "in flight")
		c.finish(a, false, nil, "release")
		c.begin(other, middleware.ReplayConflict, "released entries keep their body")
		b := c.begin(d, middleware.ReplayNew, "re-claim")
		c.finish(b, true, nil, "handled")
		c.begin(other, middleware.ReplayConflict, "handled")
	}},
	{"Renew and Finish with another body change nothing", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.renew(withBody(a, other), lost, "Renew with another body")
		c.finish(withBody(a, other), true, lost, "handled with another body")
		c.finish(withBody(a, other), false, lost, "released with another body")
		c.begin(d, middleware.ReplayInFlight, "still in flight")
		c.begin(at(d, lease), middleware.ReplayNew, "and the Renew did not extend the lease")
	}},
	{"a released delivery is claimed again by its next attempt only", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.finish(a, false, nil, "release")
		b := c.begin(d, middleware.ReplayNew, "re-claim")
		c.begin(d, middleware.ReplayInFlight, "the re-claim is in flight")
		c.finish(a, false, lost, "the first attempt's second release")
		c.begin(d, middleware.ReplayInFlight, "changed nothing")
		c.finish(b, false, nil, "release")
		c.finish(b, false, lost, "a second release")
		c.begin(d, middleware.ReplayNew, "released twice, claimed once")
		c.begin(d, middleware.ReplayInFlight, "then in flight")
	}},
	{"a handled delivery is acknowledged and cannot be released", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.finish(a, true, nil, "handled")
		c.begin(d, middleware.ReplayHandled, "handled")
		c.finish(a, false, lost, "a release after the handled mark")
		c.begin(d, middleware.ReplayHandled, "still handled after a release")
		c.finish(a, true, lost, "a second handled mark")
		c.renew(a, lost, "a Renew after the handled mark")
		c.begin(d, middleware.ReplayHandled, "still handled")
	}},
	{"Renew and Finish of an unknown delivery create nothing", func(c *checker) {
		a := c.attempt(d)
		c.renew(a, lost, "Renew")
		c.finish(a, true, lost, "handled")
		c.finish(a, false, lost, "released")
		c.begin(d, middleware.ReplayNew, "claim after stray calls")
	}},
	{"deliveries are remembered for their TTL, not a nanosecond longer", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.finish(a, true, nil, "handled")
		c.begin(at(d, ttl-ns), middleware.ReplayHandled, "just before the TTL")
		c.begin(at(d, ttl), middleware.ReplayNew, "at the TTL the ID starts over")
		c.begin(at(d, ttl), middleware.ReplayInFlight, "as a new claim")
	}},
	{"an expired delivery starts over with any body", func(c *checker) {
		c.begin(d, middleware.ReplayNew, "claim")
		c.begin(at(other, ttl-ns), middleware.ReplayConflict, "just before the TTL")
		c.begin(at(other, ttl), middleware.ReplayNew, "at the TTL")
		c.begin(at(d, ttl), middleware.ReplayConflict, "bound to the new body")
	}},
	{"Renew and Finish of an expired claim get ErrClaimLost", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.renew(at(a, ttl), lost, "Renew at the TTL")
		c.finish(at(a, ttl), true, lost, "handled at the TTL")
		c.begin(at(d, ttl), middleware.ReplayNew, "the ID starts over")
	}},
	{"the TTL runs from the first claim and is never extended", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.finish(at(a, ttl/2), false, nil, "release halfway")
		b := c.begin(at(d, ttl/2), middleware.ReplayNew, "re-claim halfway")
		c.renew(at(b, ttl/2+lease/2), nil, "renew")
		c.finish(at(b, ttl/2+lease/2), true, nil, "handled")
		c.begin(at(d, ttl-ns), middleware.ReplayHandled, "just before the first claim's TTL")
		c.begin(at(d, ttl), middleware.ReplayNew, "the re-claim, the Renew and the Finish did not extend it")
	}},
	{"a delivery's TTL is its own", func(c *checker) {
		short := d
		short.TTL = time.Minute
		a := c.begin(short, middleware.ReplayNew, "claim with a one minute TTL")
		c.finish(a, true, nil, "handled")
		c.begin(at(short, time.Minute-ns), middleware.ReplayHandled, "just before a minute")
		c.begin(at(short, time.Minute), middleware.ReplayNew, "gone after a minute")
	}},
	{"different IDs are independent", func(c *checker) {
		second := newDelivery("another pair", "body")
		a := c.begin(d, middleware.ReplayNew, "first ID")
		b := c.begin(second, middleware.ReplayNew, "second ID, same body")
		c.finish(a, true, nil, "first handled")
		c.begin(second, middleware.ReplayInFlight, "the second is still in flight")
		c.finish(b, false, nil, "second released")
		c.begin(d, middleware.ReplayHandled, "the first is still handled")
	}},

	// Leases.
	{"a claim whose lease ended is taken over by the next attempt", func(c *checker) {
		c.begin(d, middleware.ReplayNew, "claim")
		c.begin(at(d, lease-ns), middleware.ReplayInFlight, "just before its lease ends")
		c.begin(at(d, lease), middleware.ReplayNew, "when its lease ends")
		c.begin(at(d, lease), middleware.ReplayInFlight, "the new claim holds")
		c.begin(at(d, 2*lease-ns), middleware.ReplayInFlight, "for a lease of its own")
		c.begin(at(d, 2*lease), middleware.ReplayNew, "then it ends too")
	}},
	{"a lease is the delivery's own", func(c *checker) {
		short := d
		short.Lease = time.Second
		c.begin(short, middleware.ReplayNew, "claim with a one second lease")
		c.begin(at(d, time.Second-ns), middleware.ReplayInFlight, "just before a second")
		c.begin(at(d, time.Second), middleware.ReplayNew, "taken over after a second")
	}},
	{"the old holder's late Renew and Finish get ErrClaimLost and change nothing", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		b := c.begin(at(d, lease), middleware.ReplayNew, "taken over")
		c.renew(at(a, lease), lost, "the old holder's Renew")
		c.finish(at(a, lease), true, lost, "the old holder's handled mark")
		c.finish(at(a, lease), false, lost, "the old holder's release")
		c.begin(at(d, lease), middleware.ReplayInFlight, "still the new holder's claim: neither handled nor released")
		c.begin(at(d, 2*lease), middleware.ReplayNew, "whose lease the old holder did not extend")
		c.finish(at(b, 2*lease), false, lost, "nor the taken-over holder's own")
	}},
	{"the new holder finishes what the old one cannot", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		b := c.begin(at(d, lease), middleware.ReplayNew, "taken over")
		c.finish(at(a, lease), true, lost, "the old holder's handled mark")
		c.finish(at(b, lease), false, nil, "the new holder releases")
		c.begin(at(d, lease), middleware.ReplayNew, "released, not handled")
	}},
	{"Renew extends the lease", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.renew(at(a, lease/2), nil, "renew halfway")
		c.begin(at(d, lease), middleware.ReplayInFlight, "in flight past its first lease")
		c.renew(at(a, lease), nil, "renew again")
		c.begin(at(d, 2*lease-ns), middleware.ReplayInFlight, "a lease after the last Renew")
		b := c.begin(at(d, 2*lease), middleware.ReplayNew, "then taken over")
		c.renew(at(a, 2*lease), lost, "the old holder cannot renew it back")
		c.finish(at(b, 2*lease), true, nil, "the new holder marks it handled")
		c.begin(at(d, 2*lease), middleware.ReplayHandled, "handled")
	}},
	{"a lapsed claim nobody took over is still its holder's", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.renew(at(a, 2*lease), nil, "Renew after the lease ended")
		c.begin(at(d, 3*lease-ns), middleware.ReplayInFlight, "renewed")
		c.finish(at(a, 5*lease), true, nil, "handled after the lease ended again")
		c.begin(at(d, 5*lease), middleware.ReplayHandled, "handled")
	}},
	{"a retried Begin of the holder answers new", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.retry(a, middleware.ReplayNew, "the same attempt again")
		c.begin(d, middleware.ReplayInFlight, "other attempts still find it in flight")
		c.retry(at(a, lease/2), middleware.ReplayNew, "the same attempt later")
		c.finish(a, true, nil, "handled")
		c.begin(d, middleware.ReplayHandled, "handled")
		c.retry(a, middleware.ReplayHandled, "the same attempt after its Finish")
	}},
	{"a handled mark keeps the full TTL whatever the lease", func(c *checker) {
		short, shortOther := d, other
		short.Lease, shortOther.Lease = time.Second, time.Second
		a := c.begin(short, middleware.ReplayNew, "claim")
		c.finish(at(a, time.Second/2), true, nil, "handled within the lease")
		c.begin(at(short, ttl-ns), middleware.ReplayHandled, "just before the TTL")
		c.begin(at(shortOther, ttl-ns), middleware.ReplayConflict, "and bound to its body")
		c.begin(at(short, ttl), middleware.ReplayNew, "until the TTL")
	}},
	{"released and lapsed claims keep their body for the full TTL", func(c *checker) {
		a := c.begin(d, middleware.ReplayNew, "claim")
		c.finish(a, false, nil, "release")
		c.begin(at(other, ttl-ns), middleware.ReplayConflict, "released")
		lapsed, lapsedOther := newDelivery("another pair", "body"), newDelivery("another pair", "another body")
		c.begin(lapsed, middleware.ReplayNew, "a claim never finished")
		c.begin(at(lapsedOther, ttl-ns), middleware.ReplayConflict, "lapsed")
		c.begin(at(lapsed, ttl-ns), middleware.ReplayNew, "and taken over with its body")
	}},

	// FreshUntil.
	{"FreshUntil keeps an entry past its TTL", func(c *checker) {
		fresh, freshOther := d, other
		fresh.FreshUntil, freshOther.FreshUntil = now.Add(2*ttl), now.Add(2*ttl)
		a := c.begin(fresh, middleware.ReplayNew, "claim")
		c.finish(a, true, nil, "handled")
		c.begin(at(fresh, ttl), middleware.ReplayHandled, "past the TTL the timestamp is still fresh")
		c.begin(at(freshOther, 2*ttl), middleware.ReplayConflict, "to the last instant it is fresh")
		c.begin(at(freshOther, 2*ttl+ms), middleware.ReplayNew, "then it is forgotten")
	}},
	{"FreshUntil before the TTL's end does not shorten it", func(c *checker) {
		fresh := d
		fresh.FreshUntil = now.Add(time.Minute)
		a := c.begin(fresh, middleware.ReplayNew, "claim")
		c.finish(a, true, nil, "handled")
		c.begin(at(fresh, ttl-ns), middleware.ReplayHandled, "just before the TTL")
		c.begin(at(fresh, ttl), middleware.ReplayNew, "at the TTL")
	}},
	{"a claim kept by FreshUntil can still be renewed and finished", func(c *checker) {
		fresh := d
		fresh.FreshUntil = now.Add(2 * ttl)
		a := c.begin(fresh, middleware.ReplayNew, "claim")
		c.renew(at(a, ttl), nil, "Renew past the TTL")
		c.finish(at(a, ttl), true, nil, "handled past the TTL")
		c.begin(at(fresh, ttl+ms), middleware.ReplayHandled, "handled")
	}},
}
