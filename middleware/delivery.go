package middleware

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/allowctx"
	"github.com/smileguard/smileguard/signer"
)

// delivery is the per-request state of the guard, allocated once per
// request: the allowlist's decision, the verified callback, the reason of
// a refusal, the claim in the replay store, the re-injected body and the
// status recorder. It is also the context the next handler sees, so that
// handing all of it on costs no allocation of its own. It is never reused:
// a handler may keep its request's context.
type delivery struct {
	context.Context // the request's

	decision    allowlist.Decision
	hasDecision bool // decision was made here, not found in the parent context
	callback    Callback
	err         error // why the request was refused
	bodyBytes   int
	start       time.Time // when the guard first saw the request; zero without an Observer

	claim     Delivery                     // the replay store's view of the delivery
	timestamp [signer.MaxTimestampLen]byte // the claim's timestamp: the delivery's own, never the body's bytes
	signature [signatureChars + 1]byte     // the signature's when escaped or a header's; one byte more shows a longer one
	body      replayBody
	lent      *lentBody // the body's readers instead, with ReuseBodyBuffers
	recorder  statusRecorder
	detached  detachedContext

	// Held by the lease keeper, under its mutex, while the next handler
	// runs.
	leasePrev, leaseNext *delivery
	renewedAt            time.Time
	holding, lost        bool
}

// Value implements context.Context: the delivery under contextKey, the
// allowlist's decision made here, the request context's values otherwise.
func (d *delivery) Value(key any) any {
	switch key {
	case contextKey{}:
		return d
	case allowctx.DecisionKey{}:
		if d.hasDecision {
			return &d.decision
		}
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

// replayBody is the request body the next handler reads: the exact bytes
// that arrived. It is part of the delivery so that re-injecting the body
// costs no allocation of its own.
type replayBody struct {
	bytes.Reader
}

func (*replayBody) Close() error { return nil }

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
