package middleware

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/smileguard/smileguard/allowlist"
)

// GuardConfig configures the whole callback guard.
type GuardConfig struct {
	Allowlist allowlist.Config
	RateLimit *RateLimitConfig // nil: no in-memory rate limit
	Limiter   ClientLimiter    // a shared rate limit (middleware/redisstore); used instead of RateLimit
	Callback  CallbackConfig

	// Logger is used by every part whose own Logger is nil. nil: no
	// logging.
	Logger *slog.Logger
}

// A Guard protects a Smile ID callback endpoint: the allowlist, then the
// rate limit, then the callback verifier. It is safe for concurrent use.
type Guard struct {
	allowlist *allowlist.Allowlist
	limiter   ClientLimiter // nil without a rate limit
	verifier  *CallbackVerifier
	logger    *slog.Logger
}

// NewGuard validates the whole of cfg and returns the guard.
func NewGuard(cfg GuardConfig) (*Guard, error) {
	if cfg.Allowlist.Logger == nil {
		cfg.Allowlist.Logger = cfg.Logger
	}
	if cfg.Callback.Logger == nil {
		cfg.Callback.Logger = cfg.Logger
	}
	g := &Guard{limiter: cfg.Limiter, logger: cfg.Logger}
	var err error
	if g.allowlist, err = allowlist.New(cfg.Allowlist); err != nil {
		return nil, err
	}
	switch {
	case cfg.RateLimit != nil && cfg.Limiter != nil:
		return nil, errors.New("middleware: GuardConfig.RateLimit and GuardConfig.Limiter are both set")
	case cfg.RateLimit != nil:
		if g.limiter, err = NewRateLimiter(*cfg.RateLimit); err != nil {
			return nil, err
		}
	}
	if g.verifier, err = NewCallbackVerifier(cfg.Callback); err != nil {
		return nil, err
	}
	return g, nil
}

// Handler returns next behind the allowlist, the rate limit and the
// callback verifier, in that order.
func (g *Guard) Handler(next http.Handler) http.Handler {
	h := g.verifier.Handler(next)
	if g.limiter != nil {
		h = LimitHandler(g.limiter, g.logger, h)
	}
	return g.allowlist.Handler(h)
}

// Allowlist returns the guard's allowlist, to Update when Smile ID's
// addresses change.
func (g *Guard) Allowlist() *allowlist.Allowlist { return g.allowlist }

// Verifier returns the guard's callback verifier.
func (g *Guard) Verifier() *CallbackVerifier { return g.verifier }
