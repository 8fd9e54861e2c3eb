package bench

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// deliveryStep is how far the benchmark clock moves from one delivery to
// the next: a hundred callbacks a second. A replay store then holds about
// 60,000 live deliveries once ten minutes of benchmark time have passed
// (the default store takes 100,000), and expires one for each it admits,
// as a busy receiver's does.
const deliveryStep = 10 * time.Millisecond

// liveDeliveries is about how many deliveries a replay store holds at
// once, in steady state: how long it remembers one over deliveryStep.
const liveDeliveries = int((2*middleware.DefaultTolerance + time.Second) / deliveryStep)

// pairsPerBatch is how many (timestamp, signature) pairs are signed at a
// time, with the timer stopped.
const pairsPerBatch = 4096

// benchClock is the clock of the callback benchmarks. Each contender that
// reads a clock reads this one, and the benchmark sets it to each
// delivery's timestamp, so that none pays for time.Now (over 100 ns on
// the virtual machines these run on) and replay stores see time pass.
type benchClock struct{ now time.Time }

// Now returns the clock's time.
func (c *benchClock) Now() time.Time { return c.now }

// freshCallbacks makes every iteration of a benchmark a new delivery: one
// body whose signature and timestamp are rewritten in place with a pair
// signed ahead of time, outside the timer, and the clock moved to the
// pair's timestamp. The bodies differ in those members alone, which is
// all a replay defence looks at besides the body's hash.
type freshCallbacks struct {
	body      []byte
	timestamp []byte // the timestamp member's contents, within body
	signature []byte // the signature member's contents, within body
	key       signer.Key
	clock     *benchClock
	at        time.Time // the timestamp of the next pair to sign
	pairs     []signedPair
	used      int // of pairs
}

type signedPair struct {
	at        time.Time
	timestamp [len("2006-01-02T15:04:05.000Z")]byte
	signature [44]byte
}

// newFreshCallbacks returns fresh deliveries of body, a callback signed by
// key at callbackNow, on clock.
func newFreshCallbacks(tb testing.TB, key signer.Key, body []byte, clock *benchClock) *freshCallbacks {
	f := &freshCallbacks{body: bytes.Clone(body), key: key, clock: clock, at: callbackNow}
	f.timestamp = memberContents(tb, f.body, `"timestamp":"`, len(signedPair{}.timestamp))
	f.signature = memberContents(tb, f.body, `"signature":"`, len(signedPair{}.signature))
	clock.now = callbackNow
	return f
}

// memberContents returns the contents of the last string member that
// opens with open, which must be size bytes long.
func memberContents(tb testing.TB, body []byte, open string, size int) []byte {
	i := bytes.LastIndex(body, []byte(open))
	require.GreaterOrEqual(tb, i, 0, "no %s member", open)
	contents := body[i+len(open):]
	end := bytes.IndexByte(contents, '"')
	require.Equal(tb, size, end, "length of the %s member", open)
	return contents[:end:end]
}

// sign signs the next n pairs (at most pairsPerBatch), each deliveryStep
// after the one before, for next.
func (f *freshCallbacks) sign(n int) {
	n = max(1, min(n, pairsPerBatch))
	if cap(f.pairs) < n {
		f.pairs = make([]signedPair, n)
	}
	f.pairs, f.used = f.pairs[:n], 0
	for i := range f.pairs {
		p := &f.pairs[i]
		p.at = f.at
		ts := signer.FormatTimestamp(f.at)
		copy(p.timestamp[:], ts)
		copy(p.signature[:], signer.Sign(f.key.APIKey, f.key.PartnerID, ts))
		f.at = f.at.Add(deliveryStep)
	}
}

// signed reports whether a signed pair is left for next.
func (f *freshCallbacks) signed() bool { return f.used < len(f.pairs) }

// next writes the next signed pair into the body and moves the clock to
// its timestamp.
func (f *freshCallbacks) next() {
	p := &f.pairs[f.used]
	f.used++
	copy(f.timestamp, p.timestamp[:])
	copy(f.signature, p.signature[:])
	f.clock.now = p.at
}
