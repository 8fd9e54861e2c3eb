package middleware

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/smileguard/smileguard/internal/refusallog"
	"github.com/smileguard/smileguard/signer"
)

// Defaults and bounds of [CallbackConfig].
const (
	DefaultMaxBodyBytes = 2 << 20         // Smile ID asks receivers to accept 1.5 MB
	MaxBodyBytesLimit   = 1 << 30         // the largest MaxBodyBytes: a body is held in memory whole
	DefaultTolerance    = 5 * time.Minute // in both directions
	MaxTolerance        = time.Hour       // a wider window is a wider door for replays
)

// CallbackConfig configures a [CallbackVerifier] (and the verifier of a
// [Guard]). The zero value of every field but Keyring is a safe default.
type CallbackConfig struct {
	Keyring      *signer.Keyring  // the keys callbacks may be signed with; required
	MaxBodyBytes int64            // 0: DefaultMaxBodyBytes (2 MiB); at most MaxBodyBytesLimit
	Tolerance    time.Duration    // 0: DefaultTolerance (5 minutes), both directions; at most MaxTolerance
	Now          func() time.Time // nil: time.Now
	Replay       ReplayStore      // nil: a MemoryReplayStore of DefaultMaxReplayEntries
	Logger       *slog.Logger     // nil: no logging

	// Formats are the callback formats accepted: [BodySigned] (v1, v2),
	// [HeaderSigned] (v3). Nil means both; a callback in another format is
	// refused with 400.
	Formats []CallbackFormat

	// Lease is how long a claim on a delivery holds in the replay store
	// without renewal. The verifier renews it every third of a lease while
	// the next handler runs and its client waits, so a claim outlives its
	// holder by at most a lease: then Smile ID's retry is processed. 0:
	// [DefaultLease] (10 s); at most Tolerance.
	Lease time.Duration

	// Confirm, if not nil, is asked about a body that conflicts with the
	// one a (signature, timestamp) pair first came with (see [Confirmer]);
	// with ConfirmEvery, about every callback, before the next handler
	// runs. Nil: a conflicting body is refused with 401.
	Confirm      Confirmer
	ConfirmEvery bool

	// ReuseBodyBuffers reads each body into a buffer that is lent again
	// once the next handler has returned, so that large bodies (Smile ID's
	// of 1.5 MB) do not cost a fresh allocation each. It changes what the
	// next handler may do: r.Body and r.GetBody work until it returns, and
	// after that, in anything it kept or left running, fail with
	// [http.ErrBodyReadAfterClose] (net/http's own rule for r.Body), so
	// that they never read the callback the buffer holds next. Copy what
	// you keep (io.ReadAll's result is a copy). Off by default.
	ReuseBodyBuffers bool

	// KeyPolicy says which keys of the Keyring [NewCallbackVerifier]
	// reports at start-up, one Warn record each ([signer.LogKeyWarnings]):
	// expired, expiring soon, or older than Smile ID's 90 days. Zero: the
	// [signer.KeyPolicy] defaults.
	KeyPolicy signer.KeyPolicy

	// Rejected answers refused requests. Nil: the status the refusal
	// carries ([StatusCode]), with its text as a short plain-text body.
	// [Reason] tells it why. It is not called for an acknowledged
	// duplicate delivery. In a [Guard], set [GuardConfig.Rejected] instead.
	Rejected http.Handler

	// Observe, if not nil, is told of every decision (see [Observer]). In a
	// [Guard], set [GuardConfig.Observe] instead.
	Observe Observer
}

// A CallbackVerifier admits a Smile ID callback only if it is a fresh,
// correctly signed JSON object seen for the first time with its body,
// signed in its body or in its headers. It is safe for concurrent use.
// [CallbackVerifier.Handler] is the method most callers want;
// [CallbackVerifier.Verify] checks a body alone. Only [NewCallbackVerifier]
// makes a usable one: the zero value refuses every request with 503.
type CallbackVerifier struct {
	keyring   *signer.Keyring
	maxBody   int64
	tolerance time.Duration
	ttl       time.Duration
	lease     time.Duration
	now       func() time.Time
	realClock bool // now is time.Now: the guard reads it once per request, and the monotonic clock after the body
	formats   formatSet
	replay    ReplayStore
	leases    *leaseKeeper
	confirm   Confirmer
	every     bool
	logger    *slog.Logger
	rejected  http.Handler
	observe   Observer
	bodies    *bodyBuffers // nil without ReuseBodyBuffers
}

// NewCallbackVerifier validates cfg and returns a verifier. It refuses a
// nil or empty Keyring, a MaxBodyBytes that is negative or over
// [MaxBodyBytesLimit], a Tolerance that is negative or over [MaxTolerance],
// a Lease that is negative or over the Tolerance, an unknown format, and
// ConfirmEvery without Confirm. It then logs the keys
// [signer.Keyring.Review] reports under KeyPolicy, if Logger is set; a later
// [signer.Keyring.Replace] is not reviewed.
func NewCallbackVerifier(cfg CallbackConfig) (*CallbackVerifier, error) {
	v := &CallbackVerifier{
		keyring:   cfg.Keyring,
		maxBody:   cfg.MaxBodyBytes,
		tolerance: cfg.Tolerance,
		lease:     cfg.Lease,
		now:       cfg.Now,
		replay:    cfg.Replay,
		confirm:   cfg.Confirm,
		every:     cfg.ConfirmEvery,
		logger:    cfg.Logger,
		rejected:  cfg.Rejected,
		observe:   cfg.Observe,
	}
	switch {
	case cfg.Keyring == nil:
		return nil, errors.New("middleware: CallbackConfig.Keyring is nil")
	case len(cfg.Keyring.Keys()) == 0:
		return nil, errors.New("middleware: CallbackConfig.Keyring holds no keys")
	case cfg.MaxBodyBytes < 0:
		return nil, fmt.Errorf("middleware: CallbackConfig.MaxBodyBytes %d is negative", cfg.MaxBodyBytes)
	case cfg.MaxBodyBytes > MaxBodyBytesLimit:
		return nil, fmt.Errorf("middleware: CallbackConfig.MaxBodyBytes %d is over MaxBodyBytesLimit (%d)", cfg.MaxBodyBytes, MaxBodyBytesLimit)
	case cfg.Tolerance < 0:
		return nil, fmt.Errorf("middleware: CallbackConfig.Tolerance %v is negative", cfg.Tolerance)
	case cfg.Tolerance > MaxTolerance:
		return nil, fmt.Errorf("middleware: CallbackConfig.Tolerance %v is over %v", cfg.Tolerance, MaxTolerance)
	case cfg.Lease < 0:
		return nil, fmt.Errorf("middleware: CallbackConfig.Lease %v is negative", cfg.Lease)
	case cfg.ConfirmEvery && cfg.Confirm == nil:
		return nil, errors.New("middleware: CallbackConfig.ConfirmEvery is set but Confirm is nil")
	}
	var err error
	if v.formats, err = newFormatSet(cfg.Formats); err != nil {
		return nil, err
	}
	if v.maxBody == 0 {
		v.maxBody = DefaultMaxBodyBytes
	}
	if v.tolerance == 0 {
		v.tolerance = DefaultTolerance
	}
	if v.lease == 0 {
		v.lease = min(DefaultLease, v.tolerance)
	}
	if v.lease > v.tolerance {
		return nil, fmt.Errorf("middleware: CallbackConfig.Lease %v is over the Tolerance %v: a claim must lapse while its callback is still fresh", v.lease, v.tolerance)
	}
	// Twice the tolerance, the longest a timestamp can stay fresh after it
	// is first seen, and a second more, so that a pair expires only once
	// it can no longer pass the freshness check, whose bounds are
	// inclusive.
	v.ttl = 2*v.tolerance + time.Second
	if v.now == nil {
		v.now, v.realClock = time.Now, true
	}
	if v.replay == nil {
		v.replay, _ = NewMemoryReplayStore(0)
	}
	v.leases = newLeaseKeeper(v.replay, v.lease, v.now, v.logger)
	if cfg.ReuseBodyBuffers {
		v.bodies = &bodyBuffers{}
	}
	signer.LogKeyWarnings(context.Background(), v.logger, cfg.Keyring.Review(v.now(), cfg.KeyPolicy))
	return v, nil
}

// Handler returns a handler that verifies each request as a Smile ID
// callback and calls next only for a valid, new delivery, with the exact
// body that arrived (ContentLength and GetBody set) and the [Callback] in
// its context ([CallbackFromContext]). Refusals are answered with the
// status their reason carries, or by [CallbackConfig.Rejected]; a delivery
// already handled with a 2xx is acknowledged with 200 and not passed on. If
// next answers with a status outside 2xx or panics, the delivery is
// released so that Smile ID's retry is processed.
func (v *CallbackVerifier) Handler(next http.Handler) http.Handler {
	p := &pipeline{verifier: v, rejected: v.rejected, observe: v.observe, logger: v.logger}
	if v.logger != nil {
		p.sampler = refusallog.New(0, 0)
	}
	return p.handler(next)
}

// Verify checks a body-signed callback body: a JSON object with top-level
// string members "signature" and "timestamp", the timestamp within the
// tolerance of now, the signature made by a usable key of envs (any
// environment if none is given). It does not consult the replay store: use
// it where bodies arrive by other means than HTTP and replays are handled
// elsewhere.
func (v *CallbackVerifier) Verify(body []byte, envs ...signer.Environment) (Callback, error) {
	if v.keyring == nil {
		return Callback{}, ErrNotConfigured
	}
	d := &delivery{Context: context.Background()}
	signature, timestamp, err := v.bodyMembers(d, body)
	if err != nil {
		return Callback{}, err
	}
	if err := v.verifySignature(d, BodySigned, signature, timestamp, v.now(), envs); err != nil {
		return Callback{}, err
	}
	return d.callback, nil
}

// bodyMembers finds the signature and the timestamp of a body-signed
// callback and decodes them: into d's buffers when they are escaped, else
// as the body's own bytes. A value too long to be a timestamp or a
// signature even fully escaped is refused before it is copied out of a body
// of up to MaxBodyBytes, each in its place in the order of checks: a nil
// signature is refused as malformed once the timestamp has been judged.
func (v *CallbackVerifier) bodyMembers(d *delivery, body []byte) (signature, timestamp []byte, err error) {
	rawSignature, rawTimestamp, err := findFields(body)
	if err != nil {
		return nil, nil, err
	}
	if !v.formats.accepts(BodySigned) {
		return nil, nil, errFormatRefused
	}
	if len(rawTimestamp) > maxEscapedLen(signer.MaxTimestampLen) {
		return nil, nil, errTimestampTooLong
	}
	timestamp, ok := decodeString(d.timestamp[:0], rawTimestamp)
	if !ok {
		// Not ASCII once decoded, or longer than any timestamp: the
		// timestamp parser refuses the raw text either way.
		timestamp = rawTimestamp[1 : len(rawTimestamp)-1]
	}
	if len(rawSignature) <= maxEscapedLen(signatureChars) {
		if signature, ok = decodeString(d.signature[:0], rawSignature); !ok {
			signature = nil
		}
	}
	return signature, timestamp, nil
}

// headerMembers returns the signature and the timestamp of a header-signed
// callback as bytes in d's buffers, refusing values too long to be either.
func headerMembers(d *delivery, signatureValue, timestampValue string) (signature, timestamp []byte, err error) {
	if len(timestampValue) > signer.MaxTimestampLen {
		return nil, nil, errTimestampTooLong
	}
	timestamp = append(d.timestamp[:0], timestampValue...)
	if len(signatureValue) <= len(d.signature) {
		signature = append(d.signature[:0], signatureValue...)
	}
	return signature, timestamp, nil
}

// verifySignature judges the timestamp's format and freshness and the
// signature, in that order, and fills d's callback and claim.
func (v *CallbackVerifier) verifySignature(d *delivery, format CallbackFormat, signature, timestamp []byte, now time.Time, envs []signer.Environment) error {
	// The conversion stays on the stack for the usual timestamps (up to
	// 32 bytes): ParseTimestamp and VerifyMAC keep nothing.
	ts := string(timestamp)
	at, err := signer.ParseTimestamp(ts)
	if err != nil {
		return timestampRefusal(err)
	}
	switch {
	case at.Before(now.Add(-v.tolerance)):
		return errTooOld
	case at.After(now.Add(v.tolerance)):
		return errInFuture
	}
	if signature == nil {
		return errMalformedSignature
	}
	mac, err := signer.ParseSignature(signature)
	if err != nil {
		return signatureRefusal(err)
	}
	key, err := v.keyring.VerifyMAC(ts, mac, signer.VerifyOptions{
		Now:              now,
		Environments:     envs,
		TrimmedPartnerID: format == HeaderSigned,
	})
	if err != nil {
		return signatureRefusal(err)
	}
	d.callback = Callback{KeyID: key.ID, Environment: key.Environment, Timestamp: at, Format: format}
	d.claim = Delivery{
		ID: mac,
		// The claim outlives the body: the lease keeper renews it from
		// another goroutine, and with ReuseBodyBuffers the body's buffer
		// is lent to the next callback once the handler returns. So its
		// timestamp is the delivery's own copy (ParseTimestamp took at
		// most MaxTimestampLen bytes), not the body's bytes.
		Timestamp:  append(d.timestamp[:0], timestamp...),
		Token:      newClaimToken(),
		Now:        now,
		TTL:        v.ttl,
		FreshUntil: at.Add(v.tolerance),
		Lease:      v.lease,
	}
	return nil
}

// decodeString decodes a JSON string token (quotes included). A token
// without escapes is returned as the body's own bytes, whatever they hold;
// an escaped one is decoded into buf, which must not grow, and only if it
// decodes to ASCII, as every timestamp and signature does. It reports
// false otherwise.
func decodeString(buf, token []byte) ([]byte, bool) {
	s := token[1 : len(token)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return s, true
	}
	out := buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' {
			i++
			switch s[i] {
			case '"', '\\', '/':
				c = s[i]
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'u':
				if i+4 >= len(s) {
					return nil, false
				}
				var r rune
				for _, h := range s[i+1 : i+5] {
					r <<= 4
					switch {
					case '0' <= h && h <= '9':
						r |= rune(h - '0')
					case 'a' <= h && h <= 'f':
						r |= rune(h - 'a' + 10)
					case 'A' <= h && h <= 'F':
						r |= rune(h - 'A' + 10)
					default:
						return nil, false
					}
				}
				if r >= 0x80 {
					return nil, false
				}
				c = byte(r)
				i += 4
			default:
				return nil, false
			}
		}
		if c >= 0x80 || len(out) == cap(out) {
			return nil, false
		}
		out = append(out, c)
	}
	return out, true
}

// signatureChars is the length of a signature: 32 bytes in padded base64.
const signatureChars = 44

// maxEscapedLen is the longest string token that can decode to n bytes of
// ASCII: quotes, and six bytes ("\u0041") per character.
func maxEscapedLen(n int) int { return 6*n + 2 }

// environments returns the environments whose keys may sign a callback from
// the client the allowlist admitted: its set's Environment, or any if the
// set binds none or there was no allowlist.
func environments(d *delivery) []signer.Environment {
	switch d.decision.Environment {
	case signer.Production:
		return productionOnly
	case signer.Sandbox:
		return sandboxOnly
	}
	return nil
}

var (
	productionOnly = []signer.Environment{signer.Production}
	sandboxOnly    = []signer.Environment{signer.Sandbox}
)
