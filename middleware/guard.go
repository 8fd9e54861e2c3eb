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

	// Auth, if not nil, checks the credentials Smile ID sends with its
	// callbacks for accounts that asked for them (CallbackAuth), right
	// after the allowlist. Its Logger and Rejected default to this
	// GuardConfig's Logger and Callback.Rejected. nil: no credential check
	// (the default, as Smile ID sends none unless asked).
	Auth *AuthConfig

	// Logger is used by every part whose own Logger is nil. nil: no
	// logging.
	Logger *slog.Logger
}

// A Guard protects a Smile ID callback endpoint: the allowlist, then the
// credential check (if configured), then the rate limit, then the callback
// verifier. It is safe for concurrent use.
//
// The credential check comes before the rate limit so that requests
// without Smile ID's credentials, which can come from Smile ID's own
// addresses (another Smile ID customer can point its callbacks at any
// URL), never spend the tokens of those addresses and cannot rate-limit
// genuine callbacks away. It costs one SHA-256 per accepted credential and
// reads no body.
type Guard struct {
	allowlist *allowlist.Allowlist
	auth      *CallbackAuth // nil without a credential check
	limiter   ClientLimiter // nil without a rate limit
	verifier  *CallbackVerifier
	logger    *slog.Logger
}

// NewGuard validates the whole of cfg and returns the guard. Its callback
// verifier logs, at Warn, each key of the keyring that is due for rotation
// or about to expire (see CallbackConfig.KeyPolicy).
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
	if cfg.Auth != nil {
		auth := *cfg.Auth
		if auth.Logger == nil {
			auth.Logger = cfg.Logger
		}
		if auth.Rejected == nil {
			auth.Rejected = cfg.Callback.Rejected
		}
		if g.auth, err = NewCallbackAuth(auth); err != nil {
			return nil, err
		}
	}
	if g.verifier, err = NewCallbackVerifier(cfg.Callback); err != nil {
		return nil, err
	}
	return g, nil
}

// Handler returns next behind the allowlist, the credential check, the
// rate limit and the callback verifier, in that order.
func (g *Guard) Handler(next http.Handler) http.Handler {
	h := g.verifier.Handler(next)
	if g.limiter != nil {
		h = limitHandler(g.limiter, g.logger, g.verifier.rejected, h) // as CallbackConfig.Rejected says
	}
	if g.auth != nil {
		h = g.auth.Handler(h)
	}
	return g.allowlist.Handler(h)
}

// Allowlist returns the guard's allowlist, to Update when Smile ID's
// addresses change.
func (g *Guard) Allowlist() *allowlist.Allowlist { return g.allowlist }

// Auth returns the guard's credential check, nil if GuardConfig.Auth was.
func (g *Guard) Auth() *CallbackAuth { return g.auth }

// Verifier returns the guard's callback verifier.
func (g *Guard) Verifier() *CallbackVerifier { return g.verifier }
