package middleware

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/smileguard/smileguard/internal/refusallog"
)

// DefaultAuthRealm is the realm CallbackAuth names in its challenges when
// AuthConfig.Realm is empty.
const DefaultAuthRealm = "smileid-callback"

// MaxAuthorizationBytes is the longest Authorization header CallbackAuth
// reads; a longer one is malformed. It bounds the work a request can cause
// and the length of a configured credential.
const MaxAuthorizationBytes = 4096

// basicEncoding decodes Basic credentials: standard base64 with padding
// (RFC 7617), and only its canonical form.
var basicEncoding = base64.StdEncoding.Strict()

// AuthConfig configures a CallbackAuth: the credentials Smile ID was given
// to send with its callbacks. List several to rotate them without
// downtime: the new one beside the old until Smile ID sends the new one,
// then the new one alone.
type AuthConfig struct {
	Basic  []BasicCredential // accepted with "Authorization: Basic"
	Bearer []BearerToken     // accepted with "Authorization: Bearer"; visible ASCII, no spaces
	Realm  string            // "": DefaultAuthRealm; printable ASCII without '"' or '\'
	Logger *slog.Logger      // nil: no logging

	// Rejected answers refused requests. nil: the status StatusCode gives,
	// with the error's text as a short plain-text body. [Reason] tells it
	// why; the WWW-Authenticate challenges are already set.
	Rejected http.Handler
}

// A CallbackAuth admits a request only if its Authorization header carries
// one of the configured credentials: Basic (RFC 7617) or Bearer (RFC 6750),
// scheme names in any case. It keeps only the SHA-256 digests of the
// credentials and compares the digest of the one presented with every one
// of them in constant time, so that the time taken tells nothing about
// the accepted credentials, their lengths or which one matched.
//
// Missing or wrong credentials, and a scheme that is not configured, are
// answered 401; a malformed header (several Authorization headers, no
// credentials after the scheme, Basic credentials that are not base64 or
// have no colon, a bearer token with spaces or characters other than
// visible ASCII, over MaxAuthorizationBytes) 400. Every refusal carries a
// WWW-Authenticate challenge for each configured scheme. No credential is
// ever logged or written in a response.
//
// Handler is the method most callers want; in a Guard it runs after the
// allowlist and before the rate limit and the body. A CallbackAuth is safe
// for concurrent use.
type CallbackAuth struct {
	// The digests are sealed in a func: a CallbackAuth printed by value
	// (which fmt walks field by field, Format being a pointer method)
	// shows the func's address in every verb, not digests worth cracking
	// offline. A pointer would not do: fmt follows one with a verb it
	// does not expect.
	digests    func() *authDigests
	challenges []string
	logger     *slog.Logger
	rejected   http.Handler
}

// Format implements fmt.Formatter: a CallbackAuth prints how many
// credentials of each scheme it accepts, never their digests, which for a
// weak password would be worth cracking offline.
func (a *CallbackAuth) Format(f fmt.State, _ rune) {
	fmt.Fprintf(f, "middleware.CallbackAuth{Basic: %d credentials, Bearer: %d tokens}", len(a.digests().basic), len(a.digests().bearer))
}

// NewCallbackAuth validates cfg and returns the check. It refuses a
// configuration without any credential, a Basic user-id with a ":" or a
// control character, an empty Basic password or one with a control
// character, an empty bearer token or one with characters other than
// visible ASCII, a credential that cannot fit in MaxAuthorizationBytes, and
// a Realm that cannot be quoted as is. Errors name the field, never a
// credential.
func NewCallbackAuth(cfg AuthConfig) (*CallbackAuth, error) {
	if len(cfg.Basic) == 0 && len(cfg.Bearer) == 0 {
		return nil, errors.New("middleware: AuthConfig has no Basic credential and no Bearer token")
	}
	realm := cfg.Realm
	if realm == "" {
		realm = DefaultAuthRealm
	}
	for i := 0; i < len(realm); i++ {
		if c := realm[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return nil, fmt.Errorf("middleware: AuthConfig.Realm %q has a character other than printable ASCII, or a quote or backslash", realm)
		}
	}
	digests := &authDigests{}
	a := &CallbackAuth{digests: func() *authDigests { return digests }, logger: cfg.Logger, rejected: cfg.Rejected}
	for i, c := range cfg.Basic {
		field := fmt.Sprintf("AuthConfig.Basic[%d]", i)
		switch {
		case strings.IndexByte(c.User, ':') >= 0:
			return nil, fmt.Errorf("middleware: %s.User has a colon, which Basic credentials cannot carry", field)
		case hasControl(c.User):
			return nil, fmt.Errorf("middleware: %s.User has a control character", field)
		case c.Password == "":
			return nil, fmt.Errorf("middleware: %s.Password is empty", field)
		case hasControl(c.Password):
			return nil, fmt.Errorf("middleware: %s.Password has a control character", field)
		case len("Basic ")+base64.StdEncoding.EncodedLen(len(c.User)+1+len(c.Password)) > MaxAuthorizationBytes:
			return nil, fmt.Errorf("middleware: %s is longer than MaxAuthorizationBytes allows", field)
		}
		digests.basic = append(digests.basic, sha256.Sum256([]byte(c.User+":"+c.Password)))
	}
	for i, t := range cfg.Bearer {
		field := fmt.Sprintf("AuthConfig.Bearer[%d]", i)
		switch {
		case t == "":
			return nil, fmt.Errorf("middleware: %s is empty", field)
		case !visibleASCII(string(t)):
			return nil, fmt.Errorf("middleware: %s has a character other than visible ASCII", field)
		case len("Bearer ")+len(t) > MaxAuthorizationBytes:
			return nil, fmt.Errorf("middleware: %s is longer than MaxAuthorizationBytes allows", field)
		}
		digests.bearer = append(digests.bearer, sha256.Sum256([]byte(t)))
	}
	if len(digests.basic) > 0 {
		a.challenges = append(a.challenges, `Basic realm="`+realm+`", charset="UTF-8"`)
	}
	if len(digests.bearer) > 0 {
		a.challenges = append(a.challenges, `Bearer realm="`+realm+`"`)
	}
	return a, nil
}

// Check returns nil if r carries an accepted credential, else an error
// matching ErrMissingCredentials, ErrBadCredentials or
// ErrMalformedAuthorization. It reads only the Authorization header.
func (a *CallbackAuth) Check(r *http.Request) error {
	values := r.Header["Authorization"]
	switch len(values) {
	case 0:
		return ErrMissingCredentials
	case 1:
	default:
		return errSeveralAuthorizations
	}
	value := values[0]
	if len(value) > MaxAuthorizationBytes {
		return errAuthorizationTooLong
	}
	scheme, credentials, _ := strings.Cut(value, " ")
	credentials = strings.TrimLeft(credentials, " ") // 1*SP (RFC 7235)
	var accepted digestSet
	basic := strings.EqualFold(scheme, "Basic")
	switch {
	case value == "":
		return errNoCredentials
	case basic:
		accepted = a.digests().basic
	case strings.EqualFold(scheme, "Bearer"):
		accepted = a.digests().bearer
	}
	if len(accepted) == 0 {
		return errSchemeNotAccepted
	}
	if credentials == "" {
		return errNoCredentials
	}

	// The credential is copied here, on the stack, to be decoded and
	// hashed without an allocation.
	var buf [MaxAuthorizationBytes]byte
	raw := buf[:copy(buf[:], credentials)]
	var digest [sha256.Size]byte
	if basic {
		var decoded [MaxAuthorizationBytes * 3 / 4]byte
		n, err := basicEncoding.Decode(decoded[:], raw)
		if err != nil || !visibleASCII(credentials) { // the decoder skips CR and LF
			return errBasicNotBase64
		}
		// The user-id ends at the first colon; the password may hold
		// more. The digest covers both, as configured.
		if bytes.IndexByte(decoded[:n], ':') < 0 {
			return errBasicNoColon
		}
		digest = sha256.Sum256(decoded[:n])
	} else {
		if !visibleASCII(credentials) {
			return errBearerNotToken
		}
		digest = sha256.Sum256(raw)
	}
	if !accepted.contains(digest) {
		return ErrBadCredentials
	}
	return nil
}

// Handler returns a handler that passes to next only the requests Check
// admits. Refusals are answered with the status their reason carries (or
// by AuthConfig.Rejected), with a WWW-Authenticate challenge per configured
// scheme, and logged at Warn with the reason only, sampled as every refusal
// of this package is.
func (a *CallbackAuth) Handler(next http.Handler) http.Handler {
	p := &pipeline{auth: a, rejected: a.rejected, logger: a.logger}
	if a.logger != nil {
		p.sampler = refusallog.New(0, 0)
	}
	return p.gate(next)
}

// challenge adds a WWW-Authenticate challenge per configured scheme to a
// refusal.
func (a *CallbackAuth) challenge(w http.ResponseWriter) {
	for _, c := range a.challenges {
		w.Header().Add("WWW-Authenticate", c)
	}
}

// visibleASCII reports whether s is made of visible ASCII characters only
// (no space): what a bearer token can be sent as.
func visibleASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// hasControl reports whether s has an ASCII control character.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}
