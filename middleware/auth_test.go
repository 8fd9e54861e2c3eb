package middleware

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The credentials of the tests. No response or log may contain any of them.
const (
	basicUser     = "smileid"
	basicPassword = "correct-horse:battery-staple" // a colon in a password is allowed
	oldPassword   = "retiring-password-2026"
	bearerToken   = "tok_7Hx9Qz2LmN4pR8sT1vW3yZ5a"
)

func testAuthConfig() AuthConfig {
	return AuthConfig{
		Basic:  []BasicCredential{{User: basicUser, Password: oldPassword}, {User: basicUser, Password: basicPassword}, {User: "", Password: "anonymous-s3cret"}},
		Bearer: []BearerToken{bearerToken},
	}
}

func newAuth(t testing.TB, cfg AuthConfig) *CallbackAuth {
	t.Helper()
	a, err := NewCallbackAuth(cfg)
	require.NoError(t, err)
	return a
}

func basic(userPass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(userPass))
}

// withAuthorization returns a request carrying the given Authorization
// header values (none for no header).
func withAuthorization(values ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/smileid/callback", nil)
	for _, v := range values {
		r.Header.Add("Authorization", v)
	}
	return r
}

func TestCallbackAuthCheck(t *testing.T) {
	a := newAuth(t, testAuthConfig())
	good := basic(basicUser + ":" + basicPassword)
	tests := []struct {
		name    string
		headers []string
		want    error // nil: admitted
		exact   error // the precise reason, if any
	}{
		{"current Basic credential", []string{good}, nil, nil},
		{"the other Basic credential, during a rotation", []string{basic(basicUser + ":" + oldPassword)}, nil, nil},
		{"an empty user-id when configured", []string{basic(":anonymous-s3cret")}, nil, nil},
		{"scheme in lower case", []string{"basic " + strings.TrimPrefix(good, "Basic ")}, nil, nil},
		{"scheme in upper case", []string{"BASIC " + strings.TrimPrefix(good, "Basic ")}, nil, nil},
		{"several spaces after the scheme", []string{"Basic   " + strings.TrimPrefix(good, "Basic ")}, nil, nil},
		{"bearer token", []string{"Bearer " + bearerToken}, nil, nil},
		{"bearer in lower case", []string{"bearer " + bearerToken}, nil, nil},

		{"no Authorization header", nil, ErrMissingCredentials, ErrMissingCredentials},
		{"wrong password", []string{basic(basicUser + ":wrong")}, ErrBadCredentials, ErrBadCredentials},
		{"wrong user", []string{basic("SmileID:" + basicPassword)}, ErrBadCredentials, ErrBadCredentials},
		{"password cut at its colon", []string{basic(basicUser + ":correct-horse")}, ErrBadCredentials, ErrBadCredentials},
		{"password with more after it", []string{basic(basicUser + ":" + basicPassword + "x")}, ErrBadCredentials, ErrBadCredentials},
		{"user and password swapped around the first colon", []string{basic(basicUser + "correct-horse:battery-staple")}, ErrBadCredentials, ErrBadCredentials},
		{"empty password", []string{basic(basicUser + ":")}, ErrBadCredentials, ErrBadCredentials},
		{"just a colon", []string{basic(":")}, ErrBadCredentials, ErrBadCredentials},
		{"wrong bearer token", []string{"Bearer " + bearerToken[:len(bearerToken)-1] + "b"}, ErrBadCredentials, ErrBadCredentials},
		{"bearer token prefix", []string{"Bearer " + bearerToken[:8]}, ErrBadCredentials, ErrBadCredentials},
		{"bearer token with more", []string{"Bearer " + bearerToken + "x"}, ErrBadCredentials, ErrBadCredentials},
		{"Basic credentials sent as a bearer token", []string{"Bearer " + strings.TrimPrefix(good, "Basic ")}, ErrBadCredentials, ErrBadCredentials},
		{"unknown scheme", []string{"Digest username=\"smileid\""}, ErrBadCredentials, errSchemeNotAccepted},
		{"scheme alone, unknown", []string{"Negotiate"}, ErrBadCredentials, errSchemeNotAccepted},
		{"tab after the scheme", []string{"Basic\t" + strings.TrimPrefix(good, "Basic ")}, ErrBadCredentials, errSchemeNotAccepted},

		{"two Authorization headers", []string{good, good}, ErrMalformedAuthorization, errSeveralAuthorizations},
		{"empty header", []string{""}, ErrMalformedAuthorization, errNoCredentials},
		{"Basic without credentials", []string{"Basic"}, ErrMalformedAuthorization, errNoCredentials},
		{"Basic and spaces", []string{"Basic   "}, ErrMalformedAuthorization, errNoCredentials},
		{"Bearer without a token", []string{"Bearer"}, ErrMalformedAuthorization, errNoCredentials},
		{"Bearer and a space", []string{"Bearer "}, ErrMalformedAuthorization, errNoCredentials},
		{"not base64", []string{"Basic !!!!"}, ErrMalformedAuthorization, errBasicNotBase64},
		{"base64 without its padding", []string{"Basic " + base64.RawStdEncoding.EncodeToString([]byte(basicUser+":"+basicPassword+"x"))}, ErrMalformedAuthorization, errBasicNotBase64},
		{"URL-safe base64", []string{"Basic " + base64.URLEncoding.EncodeToString([]byte("a:\xfb\xff"))}, ErrMalformedAuthorization, errBasicNotBase64},
		{"non-canonical base64", []string{"Basic YTpiZ=="}, ErrMalformedAuthorization, errBasicNotBase64},
		{"line break inside Basic credentials", []string{good[:10] + "\r\n" + good[10:]}, ErrMalformedAuthorization, errBasicNotBase64},
		{"space inside Basic credentials", []string{good + " x"}, ErrMalformedAuthorization, errBasicNotBase64},
		{"no colon", []string{basic(basicUser + oldPassword)}, ErrMalformedAuthorization, errBasicNoColon},
		{"decodes to nothing", []string{"Basic ===="}, ErrMalformedAuthorization, errBasicNotBase64},
		{"bearer token with a space", []string{"Bearer " + bearerToken + " x"}, ErrMalformedAuthorization, errBearerNotToken},
		{"bearer token with a control character", []string{"Bearer " + bearerToken + "\x7f"}, ErrMalformedAuthorization, errBearerNotToken},
		{"bearer token not ASCII", []string{"Bearer tök"}, ErrMalformedAuthorization, errBearerNotToken},
		{"header over the limit", []string{"Bearer " + strings.Repeat("a", MaxAuthorizationBytes)}, ErrMalformedAuthorization, errAuthorizationTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := a.Check(withAuthorization(tt.headers...))
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, tt.exact, err)
			assert.Less(t, StatusCode(err), 500, "never a 5xx")
			for _, secret := range []string{basicPassword, oldPassword, bearerToken, "anonymous-s3cret"} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestCallbackAuthSchemesAreIndependent(t *testing.T) {
	onlyBasic := newAuth(t, AuthConfig{Basic: []BasicCredential{{User: basicUser, Password: basicPassword}}})
	assert.Equal(t, errSchemeNotAccepted, onlyBasic.Check(withAuthorization("Bearer "+bearerToken)))
	assert.Equal(t, errSchemeNotAccepted, onlyBasic.Check(withAuthorization("Bearer")), "an unconfigured scheme is not accepted, however it is written")

	onlyBearer := newAuth(t, AuthConfig{Bearer: []BearerToken{bearerToken, "second-token"}})
	assert.NoError(t, onlyBearer.Check(withAuthorization("Bearer second-token")))
	assert.Equal(t, errSchemeNotAccepted, onlyBearer.Check(withAuthorization(basic(basicUser+":"+basicPassword))))
	assert.Equal(t, errSchemeNotAccepted, onlyBearer.Check(withAuthorization("Basic !!!!")), "not even parsed")

	// A bearer token that looks like Basic credentials is a bearer token.
	odd := newAuth(t, AuthConfig{Bearer: []BearerToken{BearerToken(strings.TrimPrefix(basic("u:p"), "Basic "))}})
	assert.Equal(t, errSchemeNotAccepted, odd.Check(withAuthorization(basic("u:p"))))
}

func TestNewCallbackAuthRefuses(t *testing.T) {
	long := strings.Repeat("x", MaxAuthorizationBytes)
	tests := []struct {
		name string
		cfg  AuthConfig
		want string
	}{
		{"no credential", AuthConfig{}, "AuthConfig has no Basic credential and no Bearer token"},
		{"colon in the user-id", AuthConfig{Basic: []BasicCredential{{User: "a:b", Password: "s3cret-pw"}}}, "AuthConfig.Basic[0].User has a colon"},
		{"control character in the user-id", AuthConfig{Basic: []BasicCredential{{User: "a\n", Password: "s3cret-pw"}}}, "AuthConfig.Basic[0].User has a control character"},
		{"empty password", AuthConfig{Basic: []BasicCredential{{User: "a", Password: "s3cret-pw"}, {User: "b"}}}, "AuthConfig.Basic[1].Password is empty"},
		{"control character in the password", AuthConfig{Basic: []BasicCredential{{User: "a", Password: "s3cret-pw\x00"}}}, "AuthConfig.Basic[0].Password has a control character"},
		{"password too long", AuthConfig{Basic: []BasicCredential{{User: "a", Password: long[:3070]}}}, "AuthConfig.Basic[0] is longer than MaxAuthorizationBytes"},
		{"empty token", AuthConfig{Bearer: []BearerToken{""}}, "AuthConfig.Bearer[0] is empty"},
		{"token with a space", AuthConfig{Bearer: []BearerToken{"s3cret token"}}, "AuthConfig.Bearer[0] has a character other than visible ASCII"},
		{"token with a newline", AuthConfig{Bearer: []BearerToken{"s3cret-token\n"}}, "AuthConfig.Bearer[0] has a character other than visible ASCII"},
		{"token not ASCII", AuthConfig{Bearer: []BearerToken{"s3crét"}}, "AuthConfig.Bearer[0] has a character other than visible ASCII"},
		{"token too long", AuthConfig{Bearer: []BearerToken{BearerToken(long[:MaxAuthorizationBytes-6])}}, "AuthConfig.Bearer[0] is longer than MaxAuthorizationBytes"},
		{"quote in the realm", AuthConfig{Bearer: []BearerToken{"s3cret-token"}, Realm: `a"b`}, "AuthConfig.Realm"},
		{"backslash in the realm", AuthConfig{Bearer: []BearerToken{"s3cret-token"}, Realm: `a\b`}, "AuthConfig.Realm"},
		{"control character in the realm", AuthConfig{Bearer: []BearerToken{"s3cret-token"}, Realm: "a\rb"}, "AuthConfig.Realm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := NewCallbackAuth(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, a)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "middleware: "))
			assert.NotContains(t, err.Error(), "s3cret")
		})
	}
	// The longest credentials that fit are accepted, and work.
	user, password := "a", long[:MaxAuthorizationBytes/4*3-len("Basic ")-2]
	a := newAuth(t, AuthConfig{Basic: []BasicCredential{{User: user, Password: password}}, Bearer: []BearerToken{BearerToken(long[:MaxAuthorizationBytes-7])}})
	assert.NoError(t, a.Check(withAuthorization(basic(user+":"+password))))
	assert.NoError(t, a.Check(withAuthorization("Bearer "+long[:MaxAuthorizationBytes-7])))
}

func TestCallbackAuthPrintsNoDigest(t *testing.T) {
	a, err := NewCallbackAuth(AuthConfig{
		Basic:  []BasicCredential{{User: "smileid", Password: "weak"}},
		Bearer: []BearerToken{"token-value"},
	})
	require.NoError(t, err)
	digest := sha256.Sum256([]byte("smileid:weak"))
	digestText := []string{fmt.Sprintf("%x", digest[:4]), fmt.Sprintf("%d", digest[:4]), fmt.Sprint(digest[0], " ", digest[1])}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		out := fmt.Sprintf(verb, a)
		assert.Equal(t, "middleware.CallbackAuth{Basic: 1 credentials, Bearer: 1 tokens}", out, verb)
		// By value (fmt cannot call a pointer method on it), and inside a
		// struct of the user's, exported or not, through slog too.
		type holder struct {
			Exported   CallbackAuth
			unexported CallbackAuth
		}
		var logged strings.Builder
		slog.New(slog.NewTextHandler(&logged, nil)).Info("auth", "value", *a, "held", holder{*a, *a})
		for _, printed := range []string{fmt.Sprintf(verb, *a), fmt.Sprintf(verb, holder{*a, *a}), logged.String()} {
			for _, d := range digestText {
				assert.NotContains(t, printed, d, "%s: %s", verb, printed)
			}
		}
	}
}
