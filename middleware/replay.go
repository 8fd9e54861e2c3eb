package middleware

import (
	"context"
	"crypto/sha256"
	"time"
)

// A ReplayStore remembers callback deliveries so that each (signature,
// timestamp) pair is used once, bound to the body it first came with.
//
// The verifier calls Begin for every callback whose signature verified, and,
// when Begin answered ReplayNew, Finish once the next handler is done. An
// implementation must make Begin atomic: of two concurrent Begin calls for
// the same ID, at most one may answer ReplayNew. The in-memory store
// (NewMemoryReplayStore) is the default; a Redis store for several instances
// lives in the nested module middleware/redisstore.
type ReplayStore interface {
	// Begin claims the delivery. For an ID not seen (or expired) it records
	// the body hash as in flight for d.TTL and answers ReplayNew. For a
	// known ID it answers ReplayConflict if the body hash differs, and
	// otherwise ReplayInFlight, ReplayHandled, or, for a delivery
	// released by Finish, claims it again with ReplayNew.
	Begin(ctx context.Context, d Delivery) (ReplayState, error)

	// Finish ends a delivery that Begin claimed: handled marks it handled
	// (later identical deliveries are acknowledged), otherwise it is
	// released so that a retry with the same body is processed. Either
	// way the ID stays bound to its body hash until it expires.
	Finish(ctx context.Context, d Delivery, handled bool) error
}

// Delivery identifies one callback delivery for a ReplayStore.
type Delivery struct {
	ID       [sha256.Size]byte // SHA-256 of the signature and timestamp, as decoded from the body
	BodyHash [sha256.Size]byte // SHA-256 of the body
	Now      time.Time         // the verifier's clock
	TTL      time.Duration     // how long to remember the ID: twice the verifier's tolerance and a second
}

// ReplayState is what a ReplayStore knows of a delivery.
type ReplayState int

// The answers of ReplayStore.Begin.
const (
	ReplayNew      ReplayState = iota + 1 // first delivery (or a released one again): proceed
	ReplayInFlight                        // same body, still being handled: 409
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

// deliveryID derives the replay ID from the decoded signature and timestamp.
// The length prefix keeps ("ab", "c") and ("a", "bc") apart.
func deliveryID(signature, timestamp string) [sha256.Size]byte {
	var buf [1 + 64 + 128]byte
	msg := append(buf[:0], byte(len(signature)))
	msg = append(msg, signature...)
	msg = append(msg, timestamp...)
	return sha256.Sum256(msg)
}
