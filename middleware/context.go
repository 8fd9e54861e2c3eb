package middleware

import (
	"context"
	"net/http"
	"time"

	"github.com/smileguard/smileguard/signer"
)

// Callback describes a verified callback. The next handler finds it with
// CallbackFromContext.
type Callback struct {
	KeyID       string             // the ID of the key whose signature verified
	Environment signer.Environment // that key's environment
	Timestamp   time.Time          // the signed timestamp, in UTC
}

// contextKey is the key under which the verifier stores the delivery it is
// working on: a verified Callback for the next handler, or the reason a
// Rejected handler is called.
type contextKey struct{}

// CallbackFromContext returns the Callback that CallbackVerifier verified for
// this request, if any.
func CallbackFromContext(ctx context.Context) (Callback, bool) {
	d, ok := ctx.Value(contextKey{}).(*delivery)
	if !ok || d.err != nil {
		return Callback{}, false
	}
	return d.callback, true
}

// Reason returns why the verifier or a CallbackAuth refused r: an error
// matching one of this package's sentinels, signer.ErrBadTimestamp or
// signer.ErrInvalidSignature. It is meant for a CallbackConfig.Rejected or
// AuthConfig.Rejected handler and returns nil for a request that was not
// refused.
func Reason(r *http.Request) error {
	if d, ok := r.Context().Value(contextKey{}).(*delivery); ok {
		return d.err
	}
	return nil
}
