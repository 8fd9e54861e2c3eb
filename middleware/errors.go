package middleware

import (
	"errors"
	"net/http"

	"github.com/smileguard/smileguard/signer"
)

// Sentinel errors, one per reason a callback is refused, each with the
// status StatusCode maps it to. Reason returns them to a Rejected handler.
// The last three are CallbackAuth's. An unparseable timestamp is reported
// with signer.ErrBadTimestamp (400) and a signature that does not verify
// with signer.ErrInvalidSignature (401).
var (
	ErrMethodNotAllowed     = errors.New("middleware: method not allowed")                       // 405
	ErrUnsupportedMediaType = errors.New("middleware: content type must be application/json")    // 415
	ErrBodyTooLarge         = errors.New("middleware: body too large")                           // 413
	ErrBodyRead             = errors.New("middleware: body could not be read in full")           // 400
	ErrMalformedCallback    = errors.New("middleware: malformed callback")                       // 400
	ErrStaleTimestamp       = errors.New("middleware: timestamp outside the tolerance")          // 401
	ErrReplayed             = errors.New("middleware: signature replayed with a different body") // 401
	ErrInFlight             = errors.New("middleware: the same delivery is being handled")       // 409
	ErrAlreadyHandled       = errors.New("middleware: delivery already handled")                 // 200, acknowledged
	ErrReplayStoreFull      = errors.New("middleware: replay store is full")                     // 503
	ErrReplayStore          = errors.New("middleware: replay store unavailable")                 // 503
	ErrRateLimited          = errors.New("middleware: rate limit exceeded")                      // 429
	ErrLimiterUnavailable   = errors.New("middleware: rate limiter unavailable")                 // 503

	ErrMissingCredentials     = errors.New("middleware: credentials missing")            // 401, with WWW-Authenticate
	ErrBadCredentials         = errors.New("middleware: credentials not accepted")       // 401, with WWW-Authenticate
	ErrMalformedAuthorization = errors.New("middleware: malformed Authorization header") // 400, with WWW-Authenticate
)

// Precise reasons within ErrMalformedCallback, signer.ErrBadTimestamp and
// ErrStaleTimestamp.
var (
	errNotObject          = reason{"middleware: body is not a JSON object", ErrMalformedCallback}
	errMissingSignature   = reason{"middleware: signature missing", ErrMalformedCallback}
	errMissingTimestamp   = reason{"middleware: timestamp missing", ErrMalformedCallback}
	errSignatureNotString = reason{"middleware: signature is not a string", ErrMalformedCallback}
	errTimestampNotString = reason{"middleware: timestamp is not a string", ErrMalformedCallback}
	errDuplicateSignature = reason{"middleware: signature present twice", ErrMalformedCallback}
	errDuplicateTimestamp = reason{"middleware: timestamp present twice", ErrMalformedCallback}
	errCaseVariant        = reason{"middleware: a member named signature or timestamp in another case", ErrMalformedCallback}
	errTimestampTooLong   = reason{"middleware: timestamp longer than 64 bytes", signer.ErrBadTimestamp}
	errTooOld             = reason{"middleware: timestamp too old", ErrStaleTimestamp}
	errInFuture           = reason{"middleware: timestamp too far in the future", ErrStaleTimestamp}
)

// Precise reasons within ErrBadCredentials and ErrMalformedAuthorization.
var (
	errSchemeNotAccepted     = reason{"middleware: authorization scheme not accepted", ErrBadCredentials}
	errSeveralAuthorizations = reason{"middleware: several Authorization headers", ErrMalformedAuthorization}
	errAuthorizationTooLong  = reason{"middleware: Authorization header too long", ErrMalformedAuthorization}
	errNoCredentials         = reason{"middleware: Authorization header without credentials", ErrMalformedAuthorization}
	errBasicNotBase64        = reason{"middleware: Basic credentials are not base64", ErrMalformedAuthorization}
	errBasicNoColon          = reason{"middleware: Basic credentials have no colon", ErrMalformedAuthorization}
	errBearerNotToken        = reason{"middleware: bearer token has a character other than visible ASCII", ErrMalformedAuthorization}
)

// reason is a fixed error text that also matches a broader sentinel.
type reason struct {
	msg    string
	parent error
}

func (e reason) Error() string { return e.msg }
func (e reason) Unwrap() error { return e.parent }

// StatusCode returns the HTTP status the guard answers err with, as listed
// beside each sentinel error above. Errors it does not know are 500.
func StatusCode(err error) int {
	switch {
	case err == nil, errors.Is(err, ErrAlreadyHandled):
		return http.StatusOK
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrUnsupportedMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, ErrBodyTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrBodyRead), errors.Is(err, ErrMalformedCallback), errors.Is(err, signer.ErrBadTimestamp),
		errors.Is(err, ErrMalformedAuthorization):
		return http.StatusBadRequest
	case errors.Is(err, ErrStaleTimestamp), errors.Is(err, signer.ErrInvalidSignature), errors.Is(err, ErrReplayed),
		errors.Is(err, ErrMissingCredentials), errors.Is(err, ErrBadCredentials):
		return http.StatusUnauthorized
	case errors.Is(err, ErrInFlight):
		return http.StatusConflict
	case errors.Is(err, ErrRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, ErrReplayStoreFull), errors.Is(err, ErrReplayStore), errors.Is(err, ErrLimiterUnavailable):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
