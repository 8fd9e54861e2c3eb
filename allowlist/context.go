package allowlist

import (
	"context"
	"net/http"
	"net/netip"
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
}

type decisionKey struct{}

type reasonKey struct{}

// NewContext returns a copy of ctx that carries d. Handler uses it for every
// admitted request; other packages and tests may use it to place a Decision
// that FromContext then returns.
func NewContext(ctx context.Context, d Decision) context.Context {
	return context.WithValue(ctx, decisionKey{}, d)
}

// FromContext returns the Decision that Handler placed in the context of an
// admitted request, and whether there was one. Handlers behind the
// allowlist use it to learn the client IP and which set admitted it.
func FromContext(ctx context.Context) (Decision, bool) {
	d, ok := ctx.Value(decisionKey{}).(Decision)
	return d, ok
}

// Reason returns why the request was denied, for a custom Config.Denied
// handler: one of the errors of this package (ErrNotAllowed, ErrBadHeader,
// ...), all wrapping ErrDenied. It returns nil for a request that Handler
// did not deny.
func Reason(r *http.Request) error {
	err, _ := r.Context().Value(reasonKey{}).(error)
	return err
}
