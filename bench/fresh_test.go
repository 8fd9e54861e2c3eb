package bench

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
)

// deliveryStep is how far the benchmark clock moves from one delivery to
// the next: ten callbacks a second. A replay store then holds about 6,000
// live deliveries once the first ten minutes of benchmark time have
// passed (the default store takes 100,000), and expires one for each it
// admits, as a busy receiver's does.
const deliveryStep = 100 * time.Millisecond

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
	next      time.Time // the timestamp of the next pair to sign
	pairs     []signedPair
}

type signedPair struct {
	at        time.Time
	timestamp [len("2006-01-02T15:04:05.000Z")]byte
	signature [44]byte
}

// newFreshCallbacks returns fresh deliveries of body, a callback signed by
// key at callbackNow, on clock.
func newFreshCallbacks(tb testing.TB, key signer.Key, body []byte, clock *benchClock) *freshCallbacks {
	f := &freshCallbacks{body: bytes.Clone(body), key: key, clock: clock, next: callbackNow}
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
// after the one before.
func (f *freshCallbacks) sign(n int) {
	n = min(n, pairsPerBatch)
	if cap(f.pairs) < n {
		f.pairs = make([]signedPair, n)
	}
	f.pairs = f.pairs[:n]
	for i := range f.pairs {
		p := &f.pairs[i]
		p.at = f.next
		ts := signer.FormatTimestamp(f.next)
		copy(p.timestamp[:], ts)
		copy(p.signature[:], signer.Sign(f.key.APIKey, f.key.PartnerID, ts))
		f.next = f.next.Add(deliveryStep)
	}
}

// use writes the i-th signed pair into the body and moves the clock to
// its timestamp.
func (f *freshCallbacks) use(i int) {
	p := &f.pairs[i]
	copy(f.timestamp, p.timestamp[:])
	copy(f.signature, p.signature[:])
	f.clock.now = p.at
}
