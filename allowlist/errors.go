package allowlist

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrDenied is wrapped by every error that Check returns: errors.Is(err,
// ErrDenied) reports whether a request was refused, whatever the reason.
var ErrDenied = errors.New("allowlist: denied")

// The reasons for a denial. Each satisfies errors.Is(err, ErrDenied); Check
// returns them as they are, so a comparison with == works too. Their texts
// are stable.
var (
	// ErrBadPeer means the request's RemoteAddr is not an IP address, with or
	// without a port (for example empty, "@" for a Unix socket, or 0.0.0.0).
	ErrBadPeer error = &denial{"allowlist: unparseable peer address"}

	// ErrNoHeader means a trusted proxy sent the request without the
	// configured forwarding header.
	ErrNoHeader error = &denial{"allowlist: trusted proxy sent no forwarding header"}

	// ErrBadHeader means an entry of the forwarding header that had to be
	// read is not an IP address (garbage, "unknown", an obfuscated
	// identifier, a hostname, a non-canonical IPv4 form such as 127.1, an
	// unspecified address, an empty entry) or a Forwarded element is
	// malformed.
	ErrBadHeader error = &denial{"allowlist: unparseable forwarding header entry"}

	// ErrTooManyHops means the forwarding header holds more entries than
	// Config.MaxHops.
	ErrTooManyHops error = &denial{"allowlist: forwarding chain longer than MaxHops"}

	// ErrAllTrusted means every entry of the forwarding header is a trusted
	// proxy, so the client is unknown.
	ErrAllTrusted error = &denial{"allowlist: every forwarding entry is a trusted proxy"}

	// ErrNotAllowed means the client IP was resolved but is in none of the
	// allowed sets. Check then returns the client IP in Decision.ClientIP.
	ErrNotAllowed error = &denial{"allowlist: client IP not in any allowed set"}

	// errUnconfigured is returned by the zero Allowlist, which denies every
	// request until Update configures it.
	errUnconfigured error = &denial{"allowlist: not configured"}
)

// ErrInvalidConfig is wrapped by every error from New, Update and ParseSet.
// The error text names the field or the entry at fault.
var ErrInvalidConfig = errors.New("allowlist: invalid configuration")

// denial is a reason for refusing a request; it unwraps to ErrDenied.
type denial struct{ text string }

func (e *denial) Error() string { return e.text }
func (e *denial) Unwrap() error { return ErrDenied }

// Status is the HTTP status a denial is answered with: 403. A
// middleware.Guard reads it, so that every refusal carries its status.
func (e *denial) Status() int { return http.StatusForbidden }

// Code is the stable reason code of a denial, as a middleware.Guard
// reports it to its observer.
func (e *denial) Code() string { return "forbidden" }

// configError is a configuration mistake; it unwraps to ErrInvalidConfig.
type configError struct{ text string }

func (e *configError) Error() string { return e.text }
func (e *configError) Unwrap() error { return ErrInvalidConfig }

// configErrorf returns a configError whose text starts with "allowlist: ".
func configErrorf(format string, args ...any) error {
	return &configError{"allowlist: " + fmt.Sprintf(format, args...)}
}
