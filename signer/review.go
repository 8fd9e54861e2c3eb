package signer

import (
	"context"
	"log/slog"
	"time"
)

// Defaults of [KeyPolicy].
const (
	// DefaultMaxKeyAge is how old a key may grow before [Key.Review]
	// reports it: Smile ID asks for API keys to be rotated every 90 days
	// or sooner.
	DefaultMaxKeyAge = 90 * 24 * time.Hour

	// DefaultExpiryWarning is how long before its NotAfter a key is
	// reported as expiring.
	DefaultExpiryWarning = 14 * 24 * time.Hour
)

// KeyPolicy says when [Key.Review] and [Keyring.Review] report a key. Its zero value is Smile ID's
// advice: rotate every 90 days, and a warning two weeks before a key's
// NotAfter.
type KeyPolicy struct {
	MaxAge        time.Duration // 0: DefaultMaxKeyAge; negative: never report age
	ExpiryWarning time.Duration // 0: DefaultExpiryWarning; negative: report only expired keys
}

func (p KeyPolicy) maxAge() time.Duration {
	if p.MaxAge == 0 {
		return DefaultMaxKeyAge
	}
	return p.MaxAge
}

func (p KeyPolicy) expiryWarning() time.Duration {
	if p.ExpiryWarning == 0 {
		return DefaultExpiryWarning
	}
	return p.ExpiryWarning
}

// KeyProblem is why [Key.Review] reports a key.
type KeyProblem int

// The problems [Key.Review] reports, least urgent first.
const (
	KeyTooOld   KeyProblem = iota + 1 // older than KeyPolicy.MaxAge: rotate it
	KeyExpiring                       // its NotAfter is within KeyPolicy.ExpiryWarning
	KeyExpired                        // its NotAfter has passed: it verifies nothing, remove it
)

// String returns a short description, as it appears in logs.
func (p KeyProblem) String() string {
	switch p {
	case KeyTooOld:
		return "older than the rotation age"
	case KeyExpiring:
		return "expires soon"
	case KeyExpired:
		return "expired"
	}
	return "unknown"
}

// A KeyWarning reports one key that needs attention. It names the key by
// its ID and never holds its secret.
type KeyWarning struct {
	KeyID       string
	Environment Environment
	Problem     KeyProblem // the most urgent one, when there are several
	Age         time.Duration
	AgeKnown    bool      // the key has a CreatedAt; Age is meaningful
	NotAfter    time.Time // the key's NotAfter; zero: none
}

// LogValue implements [slog.LogValuer]: the key's ID, environment, problem,
// age in whole days (when known) and NotAfter (when set).
func (w KeyWarning) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("id", w.KeyID),
		slog.String("environment", string(w.Environment)),
		slog.String("problem", w.Problem.String()),
	}
	if w.AgeKnown {
		attrs = append(attrs, slog.Int64("age_days", int64(w.Age/(24*time.Hour))))
	}
	if !w.NotAfter.IsZero() {
		attrs = append(attrs, slog.Time("not_after", w.NotAfter))
	}
	return slog.GroupValue(attrs...)
}

// Review reports whether k needs attention at now under policy: expired
// (NotAfter has passed), expiring (NotAfter within policy.ExpiryWarning), or
// older than policy.MaxAge (judged from CreatedAt; a key without one is
// never too old, its age being unknown). Only the most urgent problem is
// reported; ok is false when there is none.
func (k Key) Review(now time.Time, policy KeyPolicy) (w KeyWarning, ok bool) {
	w = KeyWarning{KeyID: k.ID, Environment: k.Environment, NotAfter: k.NotAfter}
	if !k.CreatedAt.IsZero() {
		w.Age, w.AgeKnown = now.Sub(k.CreatedAt), true
	}
	switch {
	case !k.NotAfter.IsZero() && !now.Before(k.NotAfter):
		w.Problem = KeyExpired
	case !k.NotAfter.IsZero() && policy.expiryWarning() > 0 && k.NotAfter.Sub(now) <= policy.expiryWarning():
		w.Problem = KeyExpiring
	case w.AgeKnown && policy.maxAge() > 0 && w.Age > policy.maxAge():
		w.Problem = KeyTooOld
	default:
		return KeyWarning{}, false
	}
	return w, true
}

// Review returns one warning for each key that needs attention at now
// under policy (see [Key.Review]), in the keyring's order. Call it at
// start-up (the middleware's Guard and CallbackVerifier do, and log each
// warning; a Transport with a Logger reviews its Key on first use) and, in
// a long-running process, now and then.
func (k *Keyring) Review(now time.Time, policy KeyPolicy) []KeyWarning {
	var warnings []KeyWarning
	for _, key := range k.Keys() {
		if w, ok := key.Review(now, policy); ok {
			warnings = append(warnings, w)
		}
	}
	return warnings
}

// LogKeyWarnings logs each warning as one Warn record, "smileguard: API
// key needs attention", with the warning under "key" (its ID, environment,
// problem, age and NotAfter; never a secret). A nil logger logs nothing.
func LogKeyWarnings(ctx context.Context, logger *slog.Logger, warnings []KeyWarning) {
	if logger == nil {
		return
	}
	for _, w := range warnings {
		logger.LogAttrs(ctx, slog.LevelWarn, "smileguard: API key needs attention", slog.Any("key", w))
	}
}
