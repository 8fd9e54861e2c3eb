package middleware

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"net/http"
	"sync/atomic"
	"time"
)

// A ReplayStore remembers callback deliveries so that each (signature,
// timestamp) pair is used once, bound to the body it first came with.
//
// The verifier calls Begin for every callback whose signature verified.
// When Begin answers ReplayNew, the delivery is claimed for the Delivery's
// Token: the claim is a lease of Delivery.Lease, which the verifier renews
// (Renew) while the next handler runs and ends with Finish when it returns.
// A claim whose holder goes away (a crash, a kill, a frozen process, a
// network partition) frees itself when its lease runs out, so that Smile
// ID's retry, to this instance or another, is processed. Renew and Finish
// act only for the Token that holds the claim: a late call from an earlier
// attempt never frees or finishes someone else's claim.
//
// Implementations must make each method atomic: of two concurrent Begin
// calls for the same ID, at most one may answer ReplayNew. Times are the
// verifier's (Delivery.Now), never the store's own clock, so that
// instances agree and tests can move time. The in-memory store
// ([NewMemoryReplayStore]) is the default; a Redis store for several
// instances lives in the nested module middleware/redisstore; package
// [github.com/smileguard/smileguard/middleware/replaytest] checks a
// store against this contract.
type ReplayStore interface {
	// Begin claims the delivery. For an ID not seen (or expired) it binds
	// the ID to d.BodyHash, records a claim by d.Token leased until
	// d.Now+d.Lease, and answers ReplayNew. For a known ID it answers
	// ReplayConflict if the body hash differs, ReplayHandled if it was
	// handled, and claims it for d.Token with ReplayNew if it was
	// released, if its claim's lease ended by d.Now, or if d.Token holds
	// the claim already (a retried call); otherwise ReplayInFlight.
	Begin(ctx context.Context, d Delivery) (ReplayState, error)

	// Renew extends the lease of d.Token's claim to d.Now+d.Lease. If
	// d.Token does not hold the claim (it was finished, taken over after
	// its lease ended, or expired), Renew changes nothing and returns
	// ErrClaimLost.
	Renew(ctx context.Context, d Delivery) error

	// Finish ends d.Token's claim: handled marks the delivery handled, so
	// that identical deliveries are acknowledged until it expires;
	// otherwise it is released, so that a retry with the same body is
	// processed. Either way the ID stays bound to its body hash until it
	// expires, and its expiry is never extended. A Finish repeated by the
	// token that finished, with the same outcome (a call retried after a
	// broken connection), answers nil and changes nothing. If d.Token does
	// not hold the claim otherwise, Finish changes nothing and returns
	// ErrClaimLost.
	Finish(ctx context.Context, d Delivery, handled bool) error
}

// DefaultLease is how long a claim holds without being renewed: the
// verifier's default (CallbackConfig.Lease), and a store's for a Delivery
// whose Lease is zero.
const DefaultLease = 10 * time.Second

// ErrZeroToken means a Delivery came to a ReplayStore without a Token: it
// could not tell that attempt's claim from any other. It matches
// ErrReplayStore.
var ErrZeroToken error = &Refusal{code: ReasonUnavailable, status: http.StatusServiceUnavailable,
	text: "middleware: replay store: a delivery without a claim token", parent: ErrReplayStore}

// ErrClaimLost means a ReplayStore's Renew or Finish was called with a
// token that does not hold the delivery's claim: its lease ran out and
// another attempt took the delivery over, or it was already finished, or
// it expired. Nothing was changed. The verifier logs it: the delivery may
// have been handled twice.
var ErrClaimLost = errors.New("middleware: replay claim lost")

// Delivery identifies one attempt at one callback delivery for a
// ReplayStore.
type Delivery struct {
	// ID names the (signature, timestamp) pair: the 32-byte MAC its
	// signature decodes to, whichever carrier (body or headers) brought
	// it. A second body confirmed for the same pair (see
	// CallbackConfig.Confirm) has an ID of its own, derived from the
	// pair's and the body's.
	ID [32]byte

	// BodyHash is the SHA-256 of the body, exactly as it arrived.
	BodyHash [32]byte

	// Timestamp is the signed timestamp, exactly as received. With ID it
	// names the pair; a store may key on both, as the Redis store does so
	// that its keys stay those of earlier versions. It is valid only
	// during the call.
	Timestamp []byte

	// Token names this attempt's claim. The verifier draws a new one for
	// every attempt, unique across processes. A store refuses the zero
	// Token with [ErrZeroToken].
	Token [16]byte

	// Now is the verifier's clock.
	Now time.Time

	// TTL is how long the ID is remembered from its first claim: twice
	// the verifier's tolerance and a second.
	TTL time.Duration

	// FreshUntil is the last instant at which the pair's timestamp passes
	// the verifier's freshness check. The ID is remembered until then too,
	// even if Now has stepped back (an NTP step, a restored VM snapshot)
	// so that Now+TTL alone would have forgotten it too early. A store
	// whose keys expire on a clock of its own (Redis) honours it as seen
	// at Begin. Zero: TTL alone.
	FreshUntil time.Time

	// Lease is how long a claim holds without Renew. Zero: DefaultLease.
	Lease time.Duration
}

// ReplayState is what a ReplayStore knows of a delivery.
type ReplayState int

// The answers of ReplayStore.Begin.
const (
	ReplayNew      ReplayState = iota + 1 // claimed: proceed
	ReplayInFlight                        // same body, claimed by another live attempt: 409
	ReplayHandled                         // same body, handled with a 2xx: acknowledge with 200
	ReplayConflict                        // the pair came with another body: 401
)

// String returns the state's name.
func (s ReplayState) String() string {
	switch s {
	case ReplayNew:
		return "new"
	case ReplayInFlight:
		return "in flight"
	case ReplayHandled:
		return "handled"
	case ReplayConflict:
		return "conflict"
	}
	return "unknown"
}

// claimTokens makes claim tokens unique across processes (a random base)
// and within one (a counter), without a system call per token.
var claimTokens struct {
	base    [8]byte
	counter atomic.Uint64
}

func init() {
	// crypto/rand.Read never fails (Go 1.24 and later crash the program
	// instead); the error is checked for older toolchains.
	if _, err := rand.Read(claimTokens.base[:]); err != nil {
		panic("middleware: no randomness for claim tokens: " + err.Error())
	}
}

// newClaimToken returns a token no other attempt, in this process or
// another, has.
func newClaimToken() [16]byte {
	var token [16]byte
	copy(token[:8], claimTokens.base[:])
	binary.BigEndian.PutUint64(token[8:], claimTokens.counter.Add(1))
	return token
}
