package allowlist

import (
	"context"
	"net/http"
	"net/netip"

	"github.com/smileguard/smileguard/internal/allowctx"
	"github.com/smileguard/smileguard/signer"
)

// Decision is the outcome of a successful check: the client IP and the name
// of the allowed set that contains it.
type Decision struct {
	// ClientIP is the resolved client address, unmapped (an IPv4-mapped IPv6
	// address becomes IPv4) and without zone.
	ClientIP netip.Addr
	// Set is the Name of the first set in Config.Allow that contains
	// ClientIP.
	Set string
	// Environment is that set's Environment: the Smile ID environment
	// whose keys may sign a callback from ClientIP, or "" for any.
	Environment signer.Environment
}

type reasonKey struct{}

// FromContext returns the Decision that Handler (or a middleware.Guard)
// placed in the context of an admitted request, and whether there was one.
// Handlers behind the allowlist use it to learn the client IP and which set
// admitted it. Only this module's allowlist and middleware can place a
// Decision, so no other code in the process can forge one.
func FromContext(ctx context.Context) (Decision, bool) {
	d, ok := ctx.Value(allowctx.DecisionKey{}).(*Decision)
	if !ok || d == nil {
		return Decision{}, false
	}
	return *d, true
}

// Reason returns why the request was denied, for a custom Config.Denied
// handler: one of the errors of this package (ErrNotAllowed, ErrBadHeader,
// ...), all wrapping ErrDenied. It returns nil for a request that Handler
// did not deny.
func Reason(r *http.Request) error {
	err, _ := r.Context().Value(reasonKey{}).(error)
	return err
}
