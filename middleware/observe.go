package middleware

import (
	"context"
	"time"

	"github.com/smileguard/smileguard/signer"
)

// An Outcome is what the guard did with a request.
type Outcome string

// The outcomes of an Event.
const (
	Accepted     Outcome = "accepted"     // passed to the next handler; Event.Status is its answer
	Acknowledged Outcome = "acknowledged" // a retry of a delivery already handled: 200, not passed on
	Refused      Outcome = "refused"      // answered with a refusal; Event.Reason says why
)

// A ReasonCode is a stable, machine-readable reason for a decision of the
// guard, one per row of its answers table, for metrics and dashboards. New
// codes may be added; existing ones do not change.
type ReasonCode string

// The reason codes, in the order the guard checks a request.
const (
	ReasonForbidden            ReasonCode = "forbidden"              // 403: client IP not allowed, or a bad forwarding chain
	ReasonCredentials          ReasonCode = "credentials"            // 401 or 400: CallbackAuth refused the Authorization header
	ReasonRateLimited          ReasonCode = "rate_limited"           // 429
	ReasonMethodNotAllowed     ReasonCode = "method_not_allowed"     // 405
	ReasonUnsupportedMediaType ReasonCode = "unsupported_media_type" // 415
	ReasonBodyTooLarge         ReasonCode = "body_too_large"         // 413
	ReasonBodyRead             ReasonCode = "body_read"              // 400: the body could not be read in full
	ReasonMalformed            ReasonCode = "malformed"              // 400: not a JSON object; signature or timestamp missing, not strings, repeated
	ReasonCaseVariant          ReasonCode = "case_variant"           // 400: a member named like signature or timestamp in another case
	ReasonSignatureHeaders     ReasonCode = "signature_headers"      // 400: one signature header without the other, or one repeated
	ReasonFormatRefused        ReasonCode = "format_refused"         // 400: a callback format not in CallbackConfig.Formats
	ReasonBadTimestamp         ReasonCode = "bad_timestamp"          // 400
	ReasonStale                ReasonCode = "stale"                  // 401: timestamp outside the tolerance
	ReasonInvalidSignature     ReasonCode = "invalid_signature"      // 401
	ReasonReplayed             ReasonCode = "replayed"               // 401: the pair came with another body (and nothing vouched for it)
	ReasonInFlight             ReasonCode = "in_flight"              // 409
	ReasonAlreadyHandled       ReasonCode = "already_handled"        // 200: acknowledged retry
	ReasonUnavailable          ReasonCode = "unavailable"            // 503: replay store, rate limiter or confirmation unavailable
	ReasonAccepted             ReasonCode = "accepted"               // passed to the next handler, which answered 2xx: handled
	ReasonNotHandled           ReasonCode = "not_handled"            // passed to the next handler, which answered otherwise or panicked: released for Smile ID's retry
	ReasonInternal             ReasonCode = "internal"               // 500: an error that carries no status (a bug)
)

// An Event describes one decision of the guard, for metrics and tracing.
// It never holds a secret, a signature, a body or the client's address.
type Event struct {
	Outcome     Outcome
	Reason      ReasonCode
	Status      int                // the HTTP status answered
	Environment signer.Environment // of the key whose signature verified; "" before that
	KeyID       string             // of that key; "" before that
	Format      CallbackFormat     // the callback's carrier; "" before it was told
	Set         string             // the allowlist set that admitted the client; "" if none did
	Confirmed   bool               // CallbackConfig.Confirm vouched for the body
	BodyBytes   int                // the body's length; 0 if it was not read
	Duration    time.Duration      // from the guard's first look at the request to its answer, the next handler's work included
}

// An Observer is told of every decision a Guard or CallbackVerifier makes,
// once per request, after the answer: accepted, acknowledged or refused,
// and why. It runs on the request's goroutine, so it must be quick and
// safe for concurrent use; it must not keep ctx past its return. The
// metrics adapters (middleware/prommetrics, middleware/otelmetrics) are
// Observers.
type Observer func(ctx context.Context, e Event)
