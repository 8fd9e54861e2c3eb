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
	Format      CallbackFormat     // how the signature came: in the body or in headers
	Confirmed   bool               // CallbackConfig.Confirm vouched for the body with Smile ID
}

// contextKey is the key under which the guard stores the delivery it is
// working on: a verified Callback for the next handler, or the reason a
// Rejected handler is called.
type contextKey struct{}

// CallbackFromContext returns the Callback that the guard verified for this
// request, if any.
func CallbackFromContext(ctx context.Context) (Callback, bool) {
	d, ok := ctx.Value(contextKey{}).(*delivery)
	if !ok || d.err != nil {
		return Callback{}, false
	}
	return d.callback, true
}

// Reason returns why the guard refused r: a *Refusal matching one of this
// package's sentinels (and, for a bad timestamp or signature, the signer's
// too), or, for a request the allowlist of a Guard denied, the allowlist's
// error (matching allowlist.ErrDenied). StatusCode tells its status. It is
// meant for a Rejected handler and returns nil for a request that was not
// refused.
func Reason(r *http.Request) error {
	if d, ok := r.Context().Value(contextKey{}).(*delivery); ok {
		return d.err
	}
	return nil
}
