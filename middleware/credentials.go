package middleware

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"log/slog"
)

// redacted stands for a secret wherever a credential is printed.
const redacted = "[REDACTED]"

// A BasicCredential is a user-id and password that CallbackAuth accepts
// with the Basic scheme (RFC 7617).
//
// BasicCredential never prints its Password: fmt (every verb), slog and
// encoding/json show it as "[REDACTED]".
type BasicCredential struct {
	User     string // may be empty; no ":" (RFC 7617)
	Password string // secret: never printed, logged or put in an error
}

// String returns the credential with the password redacted.
func (c BasicCredential) String() string {
	return fmt.Sprintf("middleware.BasicCredential{User: %q, Password: %s}", c.User, redacted)
}

// GoString returns the credential as Go syntax with the password
// redacted; %#v uses it.
func (c BasicCredential) GoString() string {
	return fmt.Sprintf("middleware.BasicCredential{User:%q, Password:%q}", c.User, redacted)
}

// Format implements fmt.Formatter so that no verb can reach the password.
func (c BasicCredential) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, c.GoString())
		return
	}
	fmt.Fprint(f, c.String())
}

// LogValue implements slog.LogValuer: the user-id, never the password.
func (c BasicCredential) LogValue() slog.Value {
	return slog.GroupValue(slog.String("user", c.User), slog.String("password", redacted))
}

// MarshalJSON implements json.Marshaler with the password redacted.
func (c BasicCredential) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ User, Password string }{c.User, redacted})
}

// A BearerToken is a token that CallbackAuth accepts with the Bearer
// scheme (RFC 6750). It never prints itself: fmt (every verb), slog and
// encoding/json show "[REDACTED]". Convert with BearerToken(s).
type BearerToken string

// String returns "[REDACTED]".
func (BearerToken) String() string { return redacted }

// GoString returns "[REDACTED]" as a Go string literal; %#v uses it.
func (BearerToken) GoString() string { return `"` + redacted + `"` }

// Format implements fmt.Formatter so that no verb can reach the token.
func (t BearerToken) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		fmt.Fprint(f, t.GoString())
		return
	}
	fmt.Fprint(f, redacted)
}

// LogValue implements slog.LogValuer: "[REDACTED]".
func (BearerToken) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON implements json.Marshaler: "[REDACTED]".
func (BearerToken) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// A digestSet holds the SHA-256 digests of the credentials of one scheme,
// never the credentials themselves.
type digestSet [][sha256.Size]byte

// authDigests are a CallbackAuth's accepted digests, per scheme.
type authDigests struct {
	basic  digestSet // of "user:password"
	bearer digestSet // of the token
}

// constantTimeEqual returns 1 if the digests x and y are equal and 0 if
// not, in a time that does not depend on their bytes. Taking arrays, not
// slices, it cannot be given anything but whole SHA-256 digests.
func constantTimeEqual(x, y [sha256.Size]byte) int {
	return subtle.ConstantTimeCompare(x[:], y[:])
}

// compareDigests is constantTimeEqual. It is a variable only so that a test
// can prove that every accepted credential is compared, with the digest of
// the one presented; nothing else sets it. Digests are passed by value, so
// that the indirect call does not move them to the heap.
var compareDigests = constantTimeEqual

// contains reports whether d is in s. It compares d with every digest,
// without stopping at a match, and each comparison takes the same time
// whatever the bytes: the time taken depends on the number of accepted
// credentials only. Comparing digests, not credentials, also hides the
// accepted credentials' lengths.
func (s digestSet) contains(d [sha256.Size]byte) bool {
	found := 0
	for i := range s {
		found |= compareDigests(d, s[i])
	}
	return found == 1
}
