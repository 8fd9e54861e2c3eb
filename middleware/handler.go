package middleware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/plaintext"
)

// delivery is the per-request state of the verifier, allocated once per
// request: the verified callback for the next handler, the reason of a
// refusal, the re-injected body and the status recorder. It is also the
// context the next handler sees, so that handing all of it on costs no
// allocation of its own.
type delivery struct {
	context.Context // the request's
	callback        Callback
	err             error
	body            replayBody
	recorder        statusRecorder
	detached        detachedContext
}

// Value implements context.Context: the delivery under contextKey, the
// request context's values otherwise.
func (d *delivery) Value(key any) any {
	if key == (contextKey{}) {
		return d
	}
	return d.Context.Value(key)
}

// detachedContext keeps a context's values but not its cancellation, like
// context.WithoutCancel, without allocating: the delivery must be finished
// in the replay store even when the client has gone away. A store bounds
// its own time (the Redis store has its own timeouts).
type detachedContext struct{ context.Context }

func (detachedContext) Deadline() (time.Time, bool) { return time.Time{}, false }
func (detachedContext) Done() <-chan struct{}       { return nil }
func (detachedContext) Err() error                  { return nil }

// Handler returns a handler that verifies each request as a Smile ID
// callback and calls next only for a valid, new delivery. Refusals are
// answered as StatusCode says (or by CallbackConfig.Rejected); a delivery
// already handled with a 2xx is acknowledged with 200 and not passed on. If
// next answers with a status outside 2xx or panics, the delivery is released
// so that Smile ID's retry is processed.
func (v *CallbackVerifier) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v.serve(w, r, next)
	})
}

func (v *CallbackVerifier) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	d := &delivery{Context: r.Context()}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		v.reject(w, r, d, ErrMethodNotAllowed)
		return
	}
	if !isJSON(r.Header) {
		v.reject(w, r, d, ErrUnsupportedMediaType)
		return
	}
	body, err := readBody(r, v.maxBody)
	if err != nil {
		v.reject(w, r, d, err)
		return
	}
	now := v.now()
	cb, id, err := v.verify(body, now, environments(r))
	if err != nil {
		v.reject(w, r, d, err)
		return
	}
	d.callback = cb

	rd := Delivery{ID: id, BodyHash: sha256.Sum256(body), Token: newClaimToken(), Now: now, TTL: v.replayTTL(),
		FreshUntil: cb.Timestamp.Add(v.tolerance), Lease: DefaultLease}
	state, err := v.replay.Begin(r.Context(), rd)
	if err != nil {
		if v.logger != nil {
			v.logger.LogAttrs(r.Context(), slog.LevelError, "smileguard: replay store refused a callback",
				slog.String("error", err.Error()), slog.String("delivery", shortID(id)))
		}
		if !errors.Is(err, ErrReplayStoreFull) {
			err = ErrReplayStore // never pass a store's own text to the client
		}
		v.reject(w, r, d, err)
		return
	}
	switch state {
	case ReplayNew:
	case ReplayHandled:
		v.acknowledge(w, r, d, id)
		return
	case ReplayInFlight:
		v.reject(w, r, d, ErrInFlight)
		return
	case ReplayConflict:
		v.reject(w, r, d, ErrReplayed)
		return
	default:
		v.reject(w, r, d, ErrReplayStore)
		return
	}

	if v.logger != nil {
		v.logger.LogAttrs(r.Context(), slog.LevelInfo, "smileguard: callback accepted",
			slog.String("key_id", cb.KeyID), slog.String("environment", string(cb.Environment)),
			slog.String("client_ip", clientIP(r)), slog.Time("timestamp", cb.Timestamp),
			slog.String("delivery", shortID(id)), slog.Int("body_bytes", len(body)))
	}

	r = r.WithContext(d)
	d.body.Reset(body)
	r.Body = &d.body
	r.ContentLength = int64(len(body))
	r.TransferEncoding = nil
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	d.recorder = statusRecorder{ResponseWriter: w}

	handled := false
	d.detached = detachedContext{d.Context}
	defer func() {
		rd.Now = v.now()
		if err := v.replay.Finish(&d.detached, rd, handled); err != nil && v.logger != nil {
			v.logger.LogAttrs(d.Context, slog.LevelError, "smileguard: replay store could not finish a delivery",
				slog.String("error", err.Error()), slog.String("delivery", shortID(id)), slog.Bool("handled", handled))
		}
	}()
	next.ServeHTTP(&d.recorder, r)
	handled = d.recorder.status() >= 200 && d.recorder.status() < 300
}

// DefaultLease is how long a claim on a delivery holds without being
// renewed.
const DefaultLease = 10 * time.Second

// replayTTL is how long a delivery is remembered: twice the tolerance, the
// longest a timestamp can stay fresh after it is first seen, and a second
// more, so that a pair expires only once it can no longer pass the
// freshness check, whose bounds are inclusive.
func (v *CallbackVerifier) replayTTL() time.Duration { return 2*v.tolerance + time.Second }

// reject answers a refused request and logs why at Warn.
func (v *CallbackVerifier) reject(w http.ResponseWriter, r *http.Request, d *delivery, err error) {
	d.err = err
	logRefusal(v.logger, r, "smileguard: callback rejected", err)
	refuse(w, r, v.rejected, d, err)
}

// acknowledge answers a retried delivery that was already handled.
func (v *CallbackVerifier) acknowledge(w http.ResponseWriter, r *http.Request, d *delivery, id [sha256.Size]byte) {
	d.err = ErrAlreadyHandled
	if v.logger != nil {
		v.logger.LogAttrs(r.Context(), slog.LevelInfo, "smileguard: duplicate delivery acknowledged",
			slog.String("key_id", d.callback.KeyID), slog.String("client_ip", clientIP(r)),
			slog.String("delivery", shortID(id)))
	}
	plaintext.Write(w, http.StatusOK, ErrAlreadyHandled.Error())
}

// clientIP names the client in logs: the allowlist's decision, else the
// peer.
func clientIP(r *http.Request) string {
	if d, ok := allowlist.FromContext(r.Context()); ok {
		return d.ClientIP.String()
	}
	return r.RemoteAddr
}

// shortID is a delivery's ID shortened for logs: enough to correlate the
// records of one delivery, nothing an attacker could replay.
func shortID(id [sha256.Size]byte) string {
	return hex.EncodeToString(id[:8])
}

// statusRecorder remembers the status the next handler answered with.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 && code >= 200 { // 1xx answers are not the final status
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(p)
}

// Flush lets the next handler stream, as it could without the verifier.
func (s *statusRecorder) Flush() {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	_ = http.NewResponseController(s.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the original writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// status is the answer's status: 200 if the handler wrote nothing, as
// net/http then sends.
func (s *statusRecorder) status() int {
	if s.code == 0 {
		return http.StatusOK
	}
	return s.code
}
