package middleware

import (
	"context"
	"crypto/sha256"
)

// A Confirmer asks Smile ID whether a callback's body is genuine. The
// signature covers the timestamp and the partner id, not the body, so two
// genuine callbacks signed with one key in the same millisecond share a
// (signature, timestamp) pair: without a Confirmer the second is refused as
// a replay (401), as a tampered body would be. With one
// (CallbackConfig.Confirm), the verifier asks it about such a conflicting
// body before refusing; when it confirms, the pair is bound to that body too
// and the callback goes on to the next handler.
//
// Confirm returns nil when Smile ID's own answer vouches for body, an error
// matching ErrNotConfirmed when it contradicts it (the callback is refused
// with 401), and any other error when Smile ID could not be asked (503, so
// that Smile ID's retry asks again). It is called before the next handler
// runs, on the request's goroutine, with the request's context; it must not
// keep body. Package middleware/confirm has ready implementations that ask
// Smile ID through a signer.Transport.
type Confirmer interface {
	Confirm(ctx context.Context, cb Callback, body []byte) error
}

// twinID is the ID of a second body confirmed for a pair: a name of its
// own, so that it is remembered, acknowledged and released like any
// delivery, without touching the first body's.
func twinID(pair, bodyHash [32]byte) [32]byte {
	var buf [64]byte
	copy(buf[:32], pair[:])
	copy(buf[32:], bodyHash[:])
	return sha256.Sum256(buf[:])
}
