package middleware

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/jsonobj"
	"github.com/smileguard/smileguard/signer"
)

// Defaults of CallbackConfig.
const (
	DefaultMaxBodyBytes = 2 << 20         // Smile ID asks receivers to accept 1.5 MB
	DefaultTolerance    = 5 * time.Minute // in both directions
	MaxTolerance        = time.Hour       // a wider window is a wider door for replays
)

// CallbackConfig configures a CallbackVerifier. The zero value of every
// field but Keyring is a safe default.
type CallbackConfig struct {
	Keyring      *signer.Keyring  // the keys callbacks may be signed with; required
	MaxBodyBytes int64            // 0: DefaultMaxBodyBytes (2 MiB)
	Tolerance    time.Duration    // 0: DefaultTolerance (5 minutes), both directions; at most MaxTolerance
	Now          func() time.Time // nil: time.Now
	Replay       ReplayStore      // nil: a MemoryReplayStore of DefaultMaxReplayEntries
	Logger       *slog.Logger     // nil: no logging

	// KeyPolicy says which keys of the Keyring NewCallbackVerifier reports
	// at start-up, one Warn record each (signer.LogKeyWarnings): expired,
	// expiring soon, or older than Smile ID's 90 days. Zero: the
	// signer.KeyPolicy defaults.
	KeyPolicy signer.KeyPolicy

	// Rejected answers refused requests. nil: the status StatusCode gives,
	// with the error's text as a short plain-text body. Reason(r) tells it
	// why. It is not called for an acknowledged duplicate delivery. In a
	// Guard it also answers the rate limit's refusals (429, with
	// Retry-After already set, and 503).
	Rejected http.Handler
}

// A CallbackVerifier admits a Smile ID callback only if it is a fresh,
// correctly signed JSON object seen for the first time with its body. It is
// safe for concurrent use. Handler is the method most callers want; Verify
// checks a body alone.
type CallbackVerifier struct {
	keyring   *signer.Keyring
	maxBody   int64
	tolerance time.Duration
	now       func() time.Time
	replay    ReplayStore
	logger    *slog.Logger
	rejected  http.Handler
}

// NewCallbackVerifier validates cfg and returns a verifier. It refuses a nil
// or empty Keyring, a negative MaxBodyBytes, and a Tolerance that is
// negative or over MaxTolerance. It then logs the keys the Keyring's Review
// reports under KeyPolicy, if Logger is set; a later Keyring.Replace is not
// reviewed.
func NewCallbackVerifier(cfg CallbackConfig) (*CallbackVerifier, error) {
	v := &CallbackVerifier{
		keyring:   cfg.Keyring,
		maxBody:   cfg.MaxBodyBytes,
		tolerance: cfg.Tolerance,
		now:       cfg.Now,
		replay:    cfg.Replay,
		logger:    cfg.Logger,
		rejected:  cfg.Rejected,
	}
	switch {
	case cfg.Keyring == nil:
		return nil, errors.New("middleware: CallbackConfig.Keyring is nil")
	case len(cfg.Keyring.Keys()) == 0:
		return nil, errors.New("middleware: CallbackConfig.Keyring holds no keys")
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("middleware: CallbackConfig.MaxBodyBytes %d is negative", cfg.MaxBodyBytes)
	case cfg.Tolerance < 0:
		return nil, fmt.Errorf("middleware: CallbackConfig.Tolerance %v is negative", cfg.Tolerance)
	case cfg.Tolerance > MaxTolerance:
		return nil, fmt.Errorf("middleware: CallbackConfig.Tolerance %v is over %v", cfg.Tolerance, MaxTolerance)
	}
	if v.maxBody == 0 {
		v.maxBody = DefaultMaxBodyBytes
	}
	if v.tolerance == 0 {
		v.tolerance = DefaultTolerance
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.replay == nil {
		v.replay, _ = NewMemoryReplayStore(0)
	}
	signer.LogKeyWarnings(context.Background(), v.logger, cfg.Keyring.Review(v.now(), cfg.KeyPolicy))
	return v, nil
}

// Verify checks a callback body: a JSON object with top-level string members
// "signature" and "timestamp", the timestamp within the tolerance of now, the
// signature made by a usable key of envs (any environment if none is given).
// It does not consult the replay store: use it where bodies arrive by other
// means than HTTP and replays are handled elsewhere.
func (v *CallbackVerifier) Verify(body []byte, envs ...signer.Environment) (Callback, error) {
	cb, _, err := v.verify(body, v.now(), envs)
	return cb, err
}

// verify is Verify, also returning the delivery ID.
func (v *CallbackVerifier) verify(body []byte, now time.Time, envs []signer.Environment) (Callback, [sha256.Size]byte, error) {
	var id [sha256.Size]byte
	rawSignature, rawTimestamp, err := findFields(body)
	if err != nil {
		return Callback{}, id, err
	}
	// A value too long to be a timestamp or a signature even fully escaped
	// is refused before it is copied out of a body of up to MaxBodyBytes,
	// each in its place in the order of checks.
	if len(rawTimestamp) > maxEscapedLen(signer.MaxTimestampLen) {
		return Callback{}, id, errTimestampTooLong
	}
	var timestamp string
	if plain, ok := plainString(rawTimestamp); ok {
		timestamp = string(plain) // short and not kept: on the stack
	} else {
		timestamp, _ = jsonobj.Unquote(rawTimestamp)
	}
	at, err := signer.ParseTimestamp(timestamp)
	if err != nil {
		return Callback{}, id, err
	}
	switch {
	case at.Before(now.Add(-v.tolerance)):
		return Callback{}, id, errTooOld
	case at.After(now.Add(v.tolerance)):
		return Callback{}, id, errInFuture
	}
	if len(rawSignature) > maxEscapedLen(signatureChars) {
		return Callback{}, id, signer.ErrMalformedSignature
	}
	signature, _ := jsonobj.Unquote(rawSignature)
	mac, err := signer.ParseSignature([]byte(signature))
	if err != nil {
		return Callback{}, id, err
	}
	key, err := v.keyring.VerifyMAC(timestamp, mac, signer.VerifyOptions{Now: now, Environments: envs})
	if err != nil {
		return Callback{}, id, err
	}
	return Callback{KeyID: key.ID, Environment: key.Environment, Timestamp: at}, mac, nil
}

// signatureChars is the length of a signature: 32 bytes in padded base64.
const signatureChars = 44

// maxEscapedLen is the longest string token that can decode to n bytes of
// ASCII: quotes, and six bytes ("\u0041") per character.
func maxEscapedLen(n int) int { return 6*n + 2 }

// environments returns the environments whose keys may sign a callback from
// the client the allowlist admitted: a client in the "production" or
// "sandbox" set binds its environment; any other set, or no allowlist, binds
// nothing.
func environments(r *http.Request) []signer.Environment {
	d, ok := allowlist.FromContext(r.Context())
	if !ok {
		return nil
	}
	switch d.Set {
	case allowlist.SmileIDProduction.Name:
		return productionOnly
	case allowlist.SmileIDSandbox.Name:
		return sandboxOnly
	}
	return nil
}

var (
	productionOnly = []signer.Environment{signer.Production}
	sandboxOnly    = []signer.Environment{signer.Sandbox}
)
