package middleware

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/jsonobj"
	"github.com/smileguard/smileguard/internal/refusallog"
)

// A pipeline is the guard's work on one request, in the order of the
// answers table: the allowlist, the credential check and the rate limit (in
// a Guard), then the callback verifier, then the next handler. One
// delivery carries the request's state through all of it, and every
// refusal goes through one place (refuse), whichever step refused.
type pipeline struct {
	allowlist       *allowlist.Allowlist // nil: none (a CallbackVerifier alone)
	forwardedHeader string               // the allowlist's header, for refusal logs
	auth            *CallbackAuth        // nil: no credential check
	limiter         ClientLimiter        // nil: no rate limit
	verifier        *CallbackVerifier
	rejected        http.Handler
	observe         Observer
	logger          *slog.Logger
	sampler         *refusallog.Sampler // bounds the refusals logged
}

func (p *pipeline) handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.serve(w, r, next)
	})
}

func (p *pipeline) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	d := &delivery{Context: r.Context()}
	if p.observe != nil || (p.verifier != nil && p.verifier.realClock) {
		// One clock reading serves the Observer's Duration and, on the
		// real clock, the verifier's now (see verify).
		d.start = time.Now()
	}
	if p.verifier == nil || p.verifier.keyring == nil {
		p.refuse(w, r, d, ErrNotConfigured)
		return
	}
	if p.admit(w, r, d) {
		p.verify(w, r, d, next)
	}
}

// gate is serve for a pipeline without a verifier: a CallbackAuth or a
// limiter alone, in front of next. It allocates only to refuse.
func (p *pipeline) gate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		decision, _ := allowlist.FromContext(r.Context())
		if err := p.screen(w, r, decision.ClientIP); err != nil {
			p.refuse(w, r, &delivery{Context: r.Context(), decision: decision}, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// admit runs the steps before the verifier: the allowlist, the credential
// check and the rate limit. It reports whether the request passed them;
// if not, it has been refused.
func (p *pipeline) admit(w http.ResponseWriter, r *http.Request, d *delivery) bool {
	if p.allowlist != nil {
		decision, err := p.allowlist.Check(r)
		d.decision = decision // the client IP, even when it is not allowed
		if err != nil {
			p.refuse(w, r, d, err)
			return false
		}
		d.hasDecision = true
	} else if decision, ok := allowlist.FromContext(r.Context()); ok {
		d.decision = decision
	}
	if err := p.screen(w, r, d.decision.ClientIP); err != nil {
		p.refuse(w, r, d, err)
		return false
	}
	return true
}

// screen runs the credential check and the rate limit for the client (the
// allowlist's, or the peer if that is not valid) and returns the refusal,
// if any, with the headers it needs already set on w: the challenges of
// the credential check, Retry-After.
func (p *pipeline) screen(w http.ResponseWriter, r *http.Request, client netip.Addr) error {
	if p.auth != nil {
		if err := p.auth.Check(r); err != nil {
			p.auth.challenge(w)
			return err
		}
	}
	if p.limiter == nil {
		return nil
	}
	if !client.IsValid() {
		client = refusallog.Peer(r)
	}
	ok, wait, err := p.limiter.Take(r.Context(), client)
	switch {
	case err != nil:
		if p.logger != nil {
			p.logger.LogAttrs(r.Context(), slog.LevelError, "smileguard: rate limiter unavailable",
				slog.String("error", err.Error()), slog.String("client_ip", client.String()))
		}
		return ErrLimiterUnavailable
	case !ok:
		w.Header().Set("Retry-After", strconv.FormatInt(retryAfterSeconds(wait), 10))
		return ErrRateLimited
	}
	return nil
}

// verify is the callback verifier's part: the request's shape, the body,
// the signature, the replay store, and the next handler.
func (p *pipeline) verify(w http.ResponseWriter, r *http.Request, d *delivery, next http.Handler) {
	v := p.verifier
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		p.refuse(w, r, d, ErrMethodNotAllowed)
		return
	}
	if !isJSON(r.Header) {
		p.refuse(w, r, d, ErrUnsupportedMediaType)
		return
	}
	format, signatureValue, timestampValue, headerProblem := signatureHeaders(r.Header)
	var lent *[]byte
	if v.bodies != nil {
		// Apart from the delivery, so that the default keeps it small.
		lent, d.lent = v.bodies.get(), new(lentBody)
	}
	body, err := readBody(bufferOf(lent), r, v.maxBody)
	if lent != nil {
		// Back once this request is answered: the next handler has
		// returned by then, and its readers are cut off first (see
		// CallbackConfig.ReuseBodyBuffers).
		defer func() {
			d.lent.takeBack()
			v.bodies.put(lent, body)
		}()
	}
	if err != nil {
		p.refuse(w, r, d, err)
		return
	}
	d.bodyBytes = len(body)
	d.callback.Format = format

	var signature, timestamp []byte
	if format == HeaderSigned {
		switch {
		case !isObject(body):
			err = errNotObject
		case headerProblem != nil:
			err = headerProblem
		case !v.formats.accepts(HeaderSigned):
			err = errFormatRefused
		default:
			signature, timestamp, err = headerMembers(d, signatureValue, timestampValue)
		}
	} else {
		signature, timestamp, err = v.bodyMembers(d, body)
	}
	if err != nil {
		p.refuse(w, r, d, err)
		return
	}
	// Now is once the body is in, not when the request came: freshness
	// and the claim's lease are judged when the replay store is asked. A
	// pair sent in a body trickled in past its freshness would otherwise
	// pass as fresh, and find that the store had forgotten it. On the real
	// clock, it is the start's reading plus the monotonic time since,
	// cheaper than a second time.Now.
	var now time.Time
	if v.realClock {
		now = d.start.Add(time.Since(d.start))
	} else {
		now = v.now()
	}
	if err := v.verifySignature(d, format, signature, timestamp, now, environments(d)); err != nil {
		p.refuse(w, r, d, err)
		return
	}
	d.claim.BodyHash = sha256.Sum256(body)

	confirmed, err := p.claim(r, d, body)
	if err != nil {
		if errors.Is(err, ErrAlreadyHandled) {
			p.acknowledge(w, r, d)
			return
		}
		p.refuse(w, r, d, err)
		return
	}
	d.callback.Confirmed = confirmed
	p.handle(w, r, d, body, next)
}

// claim claims the delivery in the replay store, asking the Confirmer where
// the configuration says so. It returns ErrAlreadyHandled for a delivery to
// acknowledge.
func (p *pipeline) claim(r *http.Request, d *delivery, body []byte) (confirmed bool, err error) {
	v := p.verifier
	state, err := p.begin(r, d)
	if err != nil {
		return false, err
	}
	if state == ReplayConflict && v.confirm != nil {
		// A twin signed in the same millisecond, or a tampered body: only
		// Smile ID can tell.
		if err := p.confirm(r, d, body); err != nil {
			return false, err
		}
		confirmed = true
		d.claim.ID = twinID(d.claim.ID, d.claim.BodyHash)
		if state, err = p.begin(r, d); err != nil {
			return false, err
		}
	}
	switch state {
	case ReplayNew:
	case ReplayHandled:
		return confirmed, ErrAlreadyHandled
	case ReplayInFlight:
		return false, ErrInFlight
	case ReplayConflict:
		return false, ErrReplayed
	default:
		return false, ErrReplayStore
	}
	if v.every && !confirmed {
		// The claim is renewed while Smile ID is asked, as it is while
		// the next handler runs: a Confirmer may take longer than a
		// third of the lease.
		v.leases.hold(d)
		if err := p.confirm(r, d, body); err != nil {
			v.leases.release(d)
			p.finish(d, false) // released, so that the retry is asked again
			return false, err
		}
		confirmed = true
	}
	return confirmed, nil
}

// begin asks the replay store about the delivery. A store's own error is
// logged, never passed to the client.
func (p *pipeline) begin(r *http.Request, d *delivery) (ReplayState, error) {
	state, err := p.verifier.replay.Begin(r.Context(), d.claim)
	if err == nil {
		return state, nil
	}
	if p.logger != nil {
		p.logger.LogAttrs(r.Context(), slog.LevelError, "smileguard: replay store refused a callback",
			slog.String("error", err.Error()), slog.String("delivery", shortID(d.claim.ID)))
	}
	if errors.Is(err, ErrReplayStoreFull) {
		return 0, ErrReplayStoreFull
	}
	return 0, ErrReplayStore
}

// confirm asks the Confirmer about the body: nil if it vouches for it,
// ErrNotConfirmed if it refutes it, ErrConfirmUnavailable if it could not
// tell.
func (p *pipeline) confirm(r *http.Request, d *delivery, body []byte) error {
	// Capped, so that a Confirmer that appends to the body cannot reach
	// the bytes of earlier callbacks past it (ReuseBodyBuffers).
	err := p.verifier.confirm.Confirm(r.Context(), d.callback, body[:len(body):len(body)])
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotConfirmed):
		return ErrNotConfirmed
	}
	if p.logger != nil {
		p.logger.LogAttrs(r.Context(), slog.LevelError, "smileguard: could not confirm a callback with Smile ID",
			slog.String("error", err.Error()), slog.String("delivery", shortID(d.claim.ID)))
	}
	return ErrConfirmUnavailable
}

// handle runs next for a claimed delivery, with the exact body that
// arrived, renewing the claim's lease while it runs, and finishes the claim
// by next's answer: handled for a 2xx, released otherwise (a panic
// included).
func (p *pipeline) handle(w http.ResponseWriter, r *http.Request, d *delivery, body []byte, next http.Handler) {
	v := p.verifier
	if p.logger != nil && p.logger.Enabled(r.Context(), slog.LevelDebug) {
		p.logger.LogAttrs(r.Context(), slog.LevelDebug, "smileguard: callback accepted",
			slog.String("key_id", d.callback.KeyID), slog.String("environment", string(d.callback.Environment)),
			slog.String("format", string(d.callback.Format)), slog.String("client_ip", clientIP(r, d)),
			slog.Time("timestamp", d.callback.Timestamp), slog.String("delivery", shortID(d.claim.ID)),
			slog.Int("body_bytes", len(body)))
	}

	// The allocations of an accepted callback: the delivery, the body,
	// this request copy, and GetBody's closure (with ReuseBodyBuffers: the
	// lentBody, the method value, and the body only when a buffer grows).
	r = r.WithContext(d)
	if d.lent != nil {
		r.Body, r.GetBody = d.lent.lend(body), d.lent.getBody
	} else {
		d.body.Reset(body)
		r.Body = &d.body
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	d.recorder = statusRecorder{ResponseWriter: w}

	completed := false
	v.leases.hold(d)
	defer func() {
		v.leases.release(d)
		status := d.recorder.status()
		if !completed {
			status = http.StatusInternalServerError // next panicked: net/http answers so
		}
		handled := completed && status >= 200 && status < 300
		if p.finish(d, handled) {
			if p.logger != nil {
				p.logger.LogAttrs(d.Context, slog.LevelError,
					"smileguard: a handler outlived its claim's lease; the delivery may have been handled twice",
					slog.String("delivery", shortID(d.claim.ID)), slog.String("key_id", d.callback.KeyID),
					slog.Bool("handled", handled))
			}
		}
		reason := ReasonAccepted
		if !handled {
			reason = ReasonNotHandled
		}
		p.observed(r, d, Accepted, reason, status)
	}()
	next.ServeHTTP(&d.recorder, r)
	completed = true
}

// finish ends the delivery's claim, without the request's cancellation: it
// must be finished even when the client has gone away. It reports whether
// the claim had been lost to another attempt.
func (p *pipeline) finish(d *delivery, handled bool) (lost bool) {
	claim := d.claim
	claim.Now = p.verifier.now()
	d.detached = detachedContext{d.Context}
	err := p.verifier.replay.Finish(&d.detached, claim, handled)
	switch {
	case err == nil:
		return false
	case errors.Is(err, ErrClaimLost):
		return true
	}
	if p.logger != nil {
		p.logger.LogAttrs(d.Context, slog.LevelError, "smileguard: replay store could not finish a delivery",
			slog.String("error", err.Error()), slog.String("delivery", shortID(d.claim.ID)), slog.Bool("handled", handled))
	}
	if handled {
		// Tried again until the store takes it: a lost handled mark would
		// let an exact replay be handled again once the lease lapsed. A
		// lost release needs nothing: the lease lapses by itself.
		p.verifier.leases.finishLater(claim)
	}
	return false
}

// acknowledge answers a retried delivery that was already handled.
func (p *pipeline) acknowledge(w http.ResponseWriter, r *http.Request, d *delivery) {
	d.err = ErrAlreadyHandled
	if p.logger != nil {
		p.logger.LogAttrs(r.Context(), slog.LevelInfo, "smileguard: duplicate delivery acknowledged",
			slog.String("key_id", d.callback.KeyID), slog.String("client_ip", clientIP(r, d)),
			slog.String("delivery", shortID(d.claim.ID)))
	}
	http.Error(w, ErrAlreadyHandled.Error(), http.StatusOK)
	p.observed(r, d, Acknowledged, ReasonAlreadyHandled, http.StatusOK)
}

// observed tells the Observer of a decision.
func (p *pipeline) observed(r *http.Request, d *delivery, outcome Outcome, reason ReasonCode, status int) {
	if p.observe == nil {
		return
	}
	p.observe(r.Context(), Event{
		Outcome:     outcome,
		Reason:      reason,
		Status:      status,
		Environment: d.callback.Environment,
		KeyID:       d.callback.KeyID,
		Format:      d.callback.Format,
		Set:         d.decision.Set,
		Confirmed:   d.callback.Confirmed,
		BodyBytes:   d.bodyBytes,
		Duration:    time.Since(d.start),
	})
}

// clientIP names the client in logs: the allowlist's decision, else the
// peer.
func clientIP(r *http.Request, d *delivery) string {
	if d.decision.ClientIP.IsValid() {
		return d.decision.ClientIP.String()
	}
	return refusallog.Cut(r.RemoteAddr, refusallog.MaxLoggedBytes)
}

// shortID is a delivery's ID shortened for logs: enough to correlate the
// records of one delivery, nothing an attacker could replay.
func shortID(id [32]byte) string {
	return hex.EncodeToString(id[:8])
}

// bufferOf returns the buffer lent, if any.
func bufferOf(lent *[]byte) []byte {
	if lent == nil {
		return nil
	}
	return *lent
}

// isObject reports whether body is exactly one JSON object, as
// encoding/json judges it.
func isObject(body []byte) bool {
	return jsonobj.Scan(body, func(jsonobj.Member) error { return nil }) == nil
}
