package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/smileguard/smileguard/internal/refusallog"
)

// A ClientLimiter is a per-client rate limit. RateLimiter is the in-memory
// one; a limiter shared by several instances (middleware/redisstore) lives
// outside the process and can fail.
type ClientLimiter interface {
	// Take takes one token for client. Over the limit it reports false and
	// how long until a token is available. An error means the limit could
	// not be checked; the request is then refused with 503 (fail closed).
	Take(ctx context.Context, client netip.Addr) (ok bool, retryAfter time.Duration, err error)
}

// LimitHandler returns a handler that passes a request to next only if l
// admits its client: the allowlist's Decision in the context, else the peer.
// Over the limit it answers 429 with a Retry-After of whole seconds, rounded
// up; when l fails it answers 503 and logs the error (if logger is not nil).
// Refusals are logged at Warn, sampled as every refusal of this package is.
func LimitHandler(l ClientLimiter, logger *slog.Logger, next http.Handler) http.Handler {
	p := &pipeline{limiter: l, logger: logger}
	if logger != nil {
		p.sampler = refusallog.New(0, 0)
	}
	return p.gate(next)
}
