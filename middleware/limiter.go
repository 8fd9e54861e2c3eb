package middleware

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"
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
func LimitHandler(l ClientLimiter, logger *slog.Logger, next http.Handler) http.Handler {
	return limitHandler(l, logger, nil, next)
}

// limitHandler is LimitHandler answering its refusals through rejected, if
// set, as the Guard does with CallbackConfig.Rejected. A request over the
// limit is not logged, so that a flood cannot flood the log.
func limitHandler(l ClientLimiter, logger *slog.Logger, rejected, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok, wait, err := l.Take(r.Context(), rateKey(r))
		switch {
		case err != nil:
			if logger != nil {
				logger.LogAttrs(r.Context(), slog.LevelError, "smileguard: rate limiter unavailable",
					slog.String("error", err.Error()), slog.String("client_ip", clientIP(r)))
			}
			refuse(w, r, rejected, nil, ErrLimiterUnavailable)
		case !ok:
			w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(wait), 10))
			refuse(w, r, rejected, nil, ErrRateLimited)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
