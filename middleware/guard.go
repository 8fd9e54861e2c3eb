package middleware

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/textproto"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/refusallog"
	"github.com/smileguard/smileguard/signer"
)

// GuardConfig configures the whole callback guard. The [Guard] logs,
// answers and reports every refusal in one place, so its parts' own hooks
// ([allowlist.Config.Denied], [allowlist.Config.Logger],
// [CallbackConfig.Rejected], [CallbackConfig.Observe], [AuthConfig.Rejected],
// [AuthConfig.Logger]) must be left unset: [NewGuard] refuses them.
type GuardConfig struct {
	Allowlist allowlist.Config
	RateLimit *RateLimitConfig // nil: no in-memory rate limit
	Limiter   ClientLimiter    // a shared rate limit (middleware/redisstore); used instead of RateLimit
	Callback  CallbackConfig

	// Auth, if not nil, checks the credentials Smile ID sends with its
	// callbacks for accounts that asked for them ([CallbackAuth]), right
	// after the allowlist. nil: no credential check (the default, as Smile
	// ID sends none unless asked).
	Auth *AuthConfig

	// Logger receives the Guard's records: refusals at Warn (the first
	// from an address in each minute, at most 100 a minute; the others are
	// counted in summaries), failures of the replay store, the rate
	// limiter or a confirmation at Error, acknowledged retries at Info and
	// accepted callbacks at Debug. nil: [CallbackConfig.Logger]; if that
	// is nil too, no logging, and refusals are silent.
	Logger *slog.Logger

	// Rejected answers every refused request, whichever step refused it:
	// the allowlist (403), the credential check, the rate limit (429, with
	// Retry-After set) and the verifier. [Reason] tells it why, and
	// [StatusCode] of that reason the status the Guard would have
	// answered. nil: that status, with a short plain-text reason (for a
	// 403, one that does not say why).
	Rejected http.Handler

	// Observe, if not nil, is told of every decision (see [Observer]): the
	// metrics adapters plug in here.
	Observe Observer
}

// A Guard protects a Smile ID callback endpoint: the allowlist, then the
// credential check (if configured), then the rate limit, then the callback
// verifier, in one pass over the request. It is safe for concurrent use.
// [Guard.Handler] is the method most callers want. Only [NewGuard] makes a
// usable one: the zero value refuses every request with 503.
//
// The credential check comes before the rate limit so that requests
// without Smile ID's credentials, which can come from Smile ID's own
// addresses (another Smile ID customer can point its callbacks at any
// URL), never spend the tokens of those addresses and cannot rate-limit
// genuine callbacks away.
type Guard struct {
	pipeline *pipeline
	keyring  *signer.Keyring
	now      func() time.Time
}

// NewGuard validates the whole of cfg and returns the guard. Beyond what
// each part's constructor checks, it refuses an allowlist set bound to an
// environment ([allowlist.Set.Environment]) for which the keyring has no
// key usable now: every callback from that set would be refused with 401.
// Its callback verifier logs, at Warn, each key of the keyring that is due
// for rotation or about to expire (see [CallbackConfig.KeyPolicy]).
func NewGuard(cfg GuardConfig) (*Guard, error) {
	logger := cfg.Logger
	if logger == nil {
		logger = cfg.Callback.Logger
	}
	switch {
	case cfg.Allowlist.Denied != nil:
		return nil, errors.New("middleware: GuardConfig.Allowlist.Denied is set: a Guard answers every refusal with GuardConfig.Rejected")
	case cfg.Callback.Rejected != nil:
		return nil, errors.New("middleware: GuardConfig.Callback.Rejected is set: a Guard answers every refusal with GuardConfig.Rejected")
	case cfg.Auth != nil && cfg.Auth.Rejected != nil:
		return nil, errors.New("middleware: GuardConfig.Auth.Rejected is set: a Guard answers every refusal with GuardConfig.Rejected")
	case cfg.Allowlist.Logger != nil:
		return nil, errors.New("middleware: GuardConfig.Allowlist.Logger is set: a Guard logs every refusal to GuardConfig.Logger")
	case cfg.Auth != nil && cfg.Auth.Logger != nil:
		return nil, errors.New("middleware: GuardConfig.Auth.Logger is set: a Guard logs every refusal to GuardConfig.Logger")
	case cfg.Callback.Observe != nil:
		return nil, errors.New("middleware: GuardConfig.Callback.Observe is set: a Guard reports every decision to GuardConfig.Observe")
	case cfg.RateLimit != nil && cfg.Limiter != nil:
		return nil, errors.New("middleware: GuardConfig.RateLimit and GuardConfig.Limiter are both set")
	}

	p := &pipeline{limiter: cfg.Limiter, rejected: cfg.Rejected, observe: cfg.Observe, logger: logger}
	if logger != nil {
		p.sampler = refusallog.New(0, 0)
	}
	callback := cfg.Callback
	callback.Logger = logger
	var err error
	if p.verifier, err = NewCallbackVerifier(callback); err != nil {
		return nil, err
	}
	g := &Guard{pipeline: p, keyring: cfg.Callback.Keyring, now: p.verifier.now}
	if err := g.checkAllowlist(cfg.Allowlist); err != nil {
		return nil, err
	}
	if p.allowlist, err = allowlist.New(cfg.Allowlist); err != nil {
		return nil, err
	}
	p.forwardedHeader = forwardedHeader(cfg.Allowlist)
	if cfg.RateLimit != nil {
		if p.limiter, err = NewRateLimiter(*cfg.RateLimit); err != nil {
			return nil, err
		}
	}
	if cfg.Auth != nil {
		if p.auth, err = NewCallbackAuth(*cfg.Auth); err != nil {
			return nil, err
		}
	}
	return g, nil
}

// checkAllowlist refuses an allowlist set bound to an environment for
// which the keyring has no key usable now, and, if a set binds none, a
// keyring without any key usable now.
func (g *Guard) checkAllowlist(cfg allowlist.Config) error {
	now := g.now()
	usable := func(env signer.Environment) bool {
		for _, k := range g.keyring.Keys() {
			if k.UsableAt(now) && (env == "" || k.Environment == env) {
				return true
			}
		}
		return false
	}
	for i, set := range cfg.Allow {
		if !usable(set.Environment) {
			env := string(set.Environment)
			if env == "" {
				env = "any"
			}
			return fmt.Errorf("middleware: GuardConfig.Allowlist.Allow[%d] (%q) admits %s callbacks, "+
				"but the keyring has no %s key usable now: every one of them would be refused", i, set.Name, env, env)
		}
	}
	return nil
}

// forwardedHeader is the canonical name of the header the allowlist reads,
// for refusal logs.
func forwardedHeader(cfg allowlist.Config) string {
	if cfg.Header == "" {
		return ""
	}
	return textproto.CanonicalMIMEHeaderKey(cfg.Header)
}

// Handler returns next behind the allowlist, the credential check, the
// rate limit and the callback verifier, in that order (see the package
// documentation for the answers).
func (g *Guard) Handler(next http.Handler) http.Handler {
	if g == nil || g.pipeline == nil {
		return (&pipeline{}).handler(next) // refuses every request: not configured
	}
	return g.pipeline.handler(next)
}

// UpdateAllowlist replaces the Guard's allowlist configuration while
// requests run, for example when Smile ID publishes new addresses, with the
// checks [NewGuard] makes: Denied and Logger must be unset (the Guard's
// own apply), and every environment a set binds must have a usable key. On
// error nothing changes. Requests already running finish under the
// configuration they started with. The allowlist's Header cannot change:
// it must be the one [NewGuard] was given.
func (g *Guard) UpdateAllowlist(cfg allowlist.Config) error {
	switch {
	case cfg.Denied != nil:
		return errors.New("middleware: allowlist.Config.Denied is set: a Guard answers every refusal with GuardConfig.Rejected")
	case cfg.Logger != nil:
		return errors.New("middleware: allowlist.Config.Logger is set: a Guard logs every refusal to GuardConfig.Logger")
	case forwardedHeader(cfg) != g.pipeline.forwardedHeader:
		return fmt.Errorf("middleware: allowlist.Config.Header %q differs from the Guard's: make a new Guard to change it", cfg.Header)
	}
	if err := g.checkAllowlist(cfg); err != nil {
		return err
	}
	return g.pipeline.allowlist.Update(cfg)
}

// Auth returns the guard's credential check, nil if [GuardConfig.Auth] was.
func (g *Guard) Auth() *CallbackAuth { return g.pipeline.auth }

// Verifier returns the guard's callback verifier.
func (g *Guard) Verifier() *CallbackVerifier { return g.pipeline.verifier }
