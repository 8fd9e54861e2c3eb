package middleware

import (
	"errors"
	"net/http"

	"github.com/smileguard/smileguard/signer"
)

// A Refusal is a reason the guard refuses a request: a fixed text, the
// HTTP status it is answered with and a stable [ReasonCode]. Every sentinel
// error of this package is a *Refusal, and so is every more precise reason
// that wraps one (errors.Is matches both), so that adding a reason cannot
// leave its status undefined. Reason returns them to a Rejected handler.
type Refusal struct {
	code   ReasonCode
	status int
	text   string
	parent error
}

// Error returns the refusal's fixed text, which never holds a secret, a
// signature or a body.
func (e *Refusal) Error() string { return e.text }

// Unwrap returns the broader error the refusal refines, if any.
func (e *Refusal) Unwrap() error { return e.parent }

// Status returns the HTTP status the guard answers the refusal with.
func (e *Refusal) Status() int { return e.status }

// Code returns the refusal's stable, machine-readable reason.
func (e *Refusal) Code() ReasonCode { return e.code }

// newRefusal returns a sentinel refusal.
func newRefusal(code ReasonCode, status int, text string) *Refusal {
	return &Refusal{code: code, status: status, text: text}
}

// refine returns a more precise reason within parent, with its code and
// status.
func refine(text string, parent *Refusal) *Refusal {
	return &Refusal{code: parent.code, status: parent.status, text: text, parent: parent}
}

// Sentinel errors, one per reason a request is refused, with the status
// each is answered with. An unparseable timestamp is reported with an
// error matching both ErrBadTimestamp and signer.ErrBadTimestamp (400),
// a signature that does not verify with one matching
// signer.ErrInvalidSignature (401), and an allowlist denial with the
// allowlist's own error (403, matching allowlist.ErrDenied).
var (
	ErrMethodNotAllowed     = newRefusal(ReasonMethodNotAllowed, http.StatusMethodNotAllowed, "middleware: method not allowed")
	ErrUnsupportedMediaType = newRefusal(ReasonUnsupportedMediaType, http.StatusUnsupportedMediaType, "middleware: content type must be application/json")
	ErrBodyTooLarge         = newRefusal(ReasonBodyTooLarge, http.StatusRequestEntityTooLarge, "middleware: body too large")
	ErrBodyRead             = newRefusal(ReasonBodyRead, http.StatusBadRequest, "middleware: body could not be read in full")
	ErrMalformedCallback    = newRefusal(ReasonMalformed, http.StatusBadRequest, "middleware: malformed callback")
	ErrBadTimestamp         = newRefusal(ReasonBadTimestamp, http.StatusBadRequest, "middleware: bad timestamp")
	ErrStaleTimestamp       = newRefusal(ReasonStale, http.StatusUnauthorized, "middleware: timestamp outside the tolerance")
	ErrInvalidSignature     = newRefusal(ReasonInvalidSignature, http.StatusUnauthorized, "middleware: invalid signature")
	ErrReplayed             = newRefusal(ReasonReplayed, http.StatusUnauthorized, "middleware: signature replayed with a different body")
	ErrInFlight             = newRefusal(ReasonInFlight, http.StatusConflict, "middleware: the same delivery is being handled")
	ErrAlreadyHandled       = newRefusal(ReasonAlreadyHandled, http.StatusOK, "middleware: delivery already handled") // acknowledged
	ErrReplayStoreFull      = newRefusal(ReasonUnavailable, http.StatusServiceUnavailable, "middleware: replay store is full")
	ErrReplayStore          = newRefusal(ReasonUnavailable, http.StatusServiceUnavailable, "middleware: replay store unavailable")
	ErrRateLimited          = newRefusal(ReasonRateLimited, http.StatusTooManyRequests, "middleware: rate limit exceeded")
	ErrLimiterUnavailable   = newRefusal(ReasonUnavailable, http.StatusServiceUnavailable, "middleware: rate limiter unavailable")
	ErrNotConfigured        = newRefusal(ReasonUnavailable, http.StatusServiceUnavailable, "middleware: not configured: use the constructor")

	// ErrNotConfirmed means CallbackConfig.Confirm refuted a callback:
	// Smile ID's answer does not match its body. Confirm implementations
	// return an error matching it.
	ErrNotConfirmed = newRefusal(ReasonReplayed, http.StatusUnauthorized, "middleware: Smile ID does not confirm the callback")
	// ErrConfirmUnavailable means CallbackConfig.Confirm could not ask
	// Smile ID; the callback is refused so that its retry is asked again.
	ErrConfirmUnavailable = newRefusal(ReasonUnavailable, http.StatusServiceUnavailable, "middleware: callback confirmation unavailable")

	ErrMissingCredentials     = newRefusal(ReasonCredentials, http.StatusUnauthorized, "middleware: credentials missing")          // with WWW-Authenticate
	ErrBadCredentials         = newRefusal(ReasonCredentials, http.StatusUnauthorized, "middleware: credentials not accepted")     // with WWW-Authenticate
	ErrMalformedAuthorization = newRefusal(ReasonCredentials, http.StatusBadRequest, "middleware: malformed Authorization header") // with WWW-Authenticate
)

// Precise reasons within the sentinels above.
var (
	errNotObject          = refine("middleware: body is not a JSON object", ErrMalformedCallback)
	errMissingSignature   = refine("middleware: signature missing", ErrMalformedCallback)
	errMissingTimestamp   = refine("middleware: timestamp missing", ErrMalformedCallback)
	errSignatureNotString = refine("middleware: signature is not a string", ErrMalformedCallback)
	errTimestampNotString = refine("middleware: timestamp is not a string", ErrMalformedCallback)
	errDuplicateSignature = refine("middleware: signature present twice", ErrMalformedCallback)
	errDuplicateTimestamp = refine("middleware: timestamp present twice", ErrMalformedCallback)
	errCaseVariant        = &Refusal{code: ReasonCaseVariant, status: http.StatusBadRequest,
		text: "middleware: a member named signature or timestamp in another case", parent: ErrMalformedCallback}
	errHeaderMissing = &Refusal{code: ReasonSignatureHeaders, status: http.StatusBadRequest,
		text: "middleware: Response-Signature and Response-Timestamp must come together", parent: ErrMalformedCallback}
	errHeaderRepeated = &Refusal{code: ReasonSignatureHeaders, status: http.StatusBadRequest,
		text: "middleware: Response-Signature or Response-Timestamp repeated", parent: ErrMalformedCallback}
	errFormatRefused = &Refusal{code: ReasonFormatRefused, status: http.StatusBadRequest,
		text: "middleware: callback format not accepted", parent: ErrMalformedCallback}
	errTimestampTooLong = &Refusal{code: ReasonBadTimestamp, status: http.StatusBadRequest,
		text: "middleware: timestamp longer than 64 bytes", parent: joined{ErrBadTimestamp, signer.ErrBadTimestamp}}
	errTooOld   = refine("middleware: timestamp too old", ErrStaleTimestamp)
	errInFuture = refine("middleware: timestamp too far in the future", ErrStaleTimestamp)

	errSchemeNotAccepted     = refine("middleware: authorization scheme not accepted", ErrBadCredentials)
	errSeveralAuthorizations = refine("middleware: several Authorization headers", ErrMalformedAuthorization)
	errAuthorizationTooLong  = refine("middleware: Authorization header too long", ErrMalformedAuthorization)
	errNoCredentials         = refine("middleware: Authorization header without credentials", ErrMalformedAuthorization)
	errBasicNotBase64        = refine("middleware: Basic credentials are not base64", ErrMalformedAuthorization)
	errBasicNoColon          = refine("middleware: Basic credentials have no colon", ErrMalformedAuthorization)
	errBearerNotToken        = refine("middleware: bearer token has a character other than visible ASCII", ErrMalformedAuthorization)
)

// The signer's verdicts, as refusals: they keep the signer's text and
// match its sentinels too.
var (
	errMalformedSignature = &Refusal{code: ReasonInvalidSignature, status: http.StatusUnauthorized,
		text: signer.ErrMalformedSignature.Error(), parent: joined{ErrInvalidSignature, signer.ErrMalformedSignature}}
	errNoUsableKey = &Refusal{code: ReasonInvalidSignature, status: http.StatusUnauthorized,
		text: signer.ErrNoUsableKey.Error(), parent: joined{ErrInvalidSignature, signer.ErrNoUsableKey}}
	errSignatureMismatch = &Refusal{code: ReasonInvalidSignature, status: http.StatusUnauthorized,
		text: signer.ErrInvalidSignature.Error(), parent: joined{ErrInvalidSignature, signer.ErrInvalidSignature}}
)

// signatureRefusal turns the error of Keyring.VerifyMAC or
// signer.ParseSignature into its refusal.
func signatureRefusal(err error) *Refusal {
	switch {
	case errors.Is(err, signer.ErrMalformedSignature):
		return errMalformedSignature
	case errors.Is(err, signer.ErrNoUsableKey):
		return errNoUsableKey
	}
	return errSignatureMismatch
}

// timestampRefusal turns an error of signer.ParseTimestamp into a refusal
// with its text, matching ErrBadTimestamp and signer.ErrBadTimestamp.
func timestampRefusal(err error) *Refusal {
	return &Refusal{code: ReasonBadTimestamp, status: http.StatusBadRequest, text: err.Error(),
		parent: joined{ErrBadTimestamp, err}}
}

// joined unwraps to both of its errors, without the allocation of
// errors.Join: its values are built once.
type joined [2]error

func (j joined) Error() string   { return j[0].Error() }
func (j joined) Unwrap() []error { return j[:] }

// StatusCode returns the HTTP status the guard answers err with: the
// status a *Refusal (or any error in err's chain with a Status() int
// method, such as the allowlist's denials) carries, 400 for the signer's
// ErrBadTimestamp and 401 for its ErrInvalidSignature, 200 for nil, and
// 500 for any other error.
func StatusCode(err error) int {
	var s interface{ Status() int }
	switch {
	case err == nil:
		return http.StatusOK
	case errors.As(err, &s):
		return s.Status()
	case errors.Is(err, signer.ErrBadTimestamp):
		return http.StatusBadRequest
	case errors.Is(err, signer.ErrInvalidSignature):
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// codeOf returns err's reason code, as StatusCode finds its status.
func codeOf(err error) ReasonCode {
	var r *Refusal
	if errors.As(err, &r) {
		return r.code
	}
	var c interface{ Code() string }
	if errors.As(err, &c) {
		return ReasonCode(c.Code())
	}
	return ReasonInternal
}
