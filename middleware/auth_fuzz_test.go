package middleware

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// FuzzCallbackAuthCheck checks CallbackAuth against an independent reading
// of RFC 7235/7617/6750 on any one or two Authorization headers: it admits
// exactly the headers that carry an accepted credential, answers every
// other with one of its fixed errors (so no text of the header) matching
// one of its three sentinels, and a 4xx.
//
// testdata/fuzz/FuzzCallbackAuthCheck holds the inputs that once failed:
// an accepted Basic credential with an LF (d52480585be02f83) or a CR
// (f7ebc245be34ff3e) inside, which the base64 decoder skips; both were
// accepted until Check required visible ASCII.
func FuzzCallbackAuthCheck(f *testing.F) {
	cfg := AuthConfig{
		Basic:  []BasicCredential{{User: "smileid", Password: "pa:ss"}, {User: "", Password: "x"}},
		Bearer: []BearerToken{"tok_123", "=="},
	}
	a := newAuth(f, cfg)
	for _, seed := range []struct {
		header string
		twice  bool
	}{
		// Each configured credential, accepted: a password with a colon,
		// an empty user, a lower-case scheme after two spaces, a bearer
		// token in a capitalised scheme after three spaces, a token of
		// "=" only.
		{basic("smileid:pa:ss"), false},
		{basic(":x"), false},
		{"basic  " + base64.StdEncoding.EncodeToString([]byte(":x")), false},
		{"Bearer tok_123", false},
		{"BEARER   ==", false},
		// An accepted header sent twice.
		{"Bearer tok_123", true},
		// No credentials: an empty header, a scheme alone, a scheme and
		// a space.
		{"", false},
		{"Basic", false},
		{"Basic ", false},
		// Wrong credentials: a password or a token one character short.
		{basic("smileid:pa"), false},
		{"Bearer tok_12", false},
		// Basic credentials that are not canonical base64: no padding, a
		// stray character, non-zero padding bits, URL-safe, a space
		// inside, a NUL after; and no colon once decoded.
		{"Basic c21pbGVpZDpwYTpzcw", false},
		{"Basic !", false},
		{"Basic YTpiZ==", false},
		{"Basic " + base64.URLEncoding.EncodeToString([]byte("a:\xfb\xff")), false},
		{basic("smileid:pa:ss") + " x", false},
		{basic(":x") + "\x00", false},
		{basic("smileidpass"), false},
		// An accepted Basic credential with a tab before, inside and
		// after it: one bit from CR (0x09, 0x0d), which the base64
		// decoder skips, as it does LF; they were accepted once.
		{"Basic \tc21pbGVpZDpwYTpzcw==", false},
		{"Basic c21pbGVp\tZDpwYTpzcw==", false},
		{"Basic On\tg=", false},
		{"Basic Ong=\t", false},
		// Bearer tokens with a space, a tab separator, a NUL.
		{"Bearer tok 123", false},
		{"Bearer\ttok_123", false},
		{"Bearer tok_123\x00", false},
		// A scheme not configured. (A header over MaxAuthorizationBytes
		// is TestCallbackAuthCheck's: a seed that long costs up to a
		// minute of minimising whenever a mutant of it is new.)
		{"Digest a=b", false},
	} {
		f.Add(seed.header, seed.twice)
	}

	f.Fuzz(func(t *testing.T, header string, twice bool) {
		r, _ := http.NewRequest(http.MethodPost, "http://receiver.example/", nil)
		r.Header["Authorization"] = []string{header}
		if twice {
			r.Header["Authorization"] = append(r.Header["Authorization"], header)
		}
		err := a.Check(r)
		want := !twice && acceptedByReference(cfg, header)
		if (err == nil) != want {
			t.Fatalf("Check(%q, twice=%v) = %v, reference says accepted=%v", header, twice, err, want)
		}
		if err == nil {
			return
		}
		known := false
		for _, e := range []error{ErrMissingCredentials, ErrBadCredentials, errSchemeNotAccepted, errSeveralAuthorizations,
			errAuthorizationTooLong, errNoCredentials, errBasicNotBase64, errBasicNoColon, errBearerNotToken} {
			known = known || err == e
		}
		if !known {
			t.Fatalf("Check(%q) = %v: not one of CallbackAuth's fixed errors, so its text may carry the header", header, err)
		}
		if !errors.Is(err, ErrMissingCredentials) && !errors.Is(err, ErrBadCredentials) && !errors.Is(err, ErrMalformedAuthorization) {
			t.Fatalf("Check(%q) = %v: not one of CallbackAuth's sentinels", header, err)
		}
		if s := StatusCode(err); s != 400 && s != 401 {
			t.Fatalf("Check(%q) = %v: status %d", header, err, s)
		}
	})
}

// acceptedByReference says whether a single Authorization header carries
// one of cfg's credentials, written independently of CallbackAuth: the
// scheme, one or more spaces, then the base64 of "user:password" or the
// token itself.
func acceptedByReference(cfg AuthConfig, header string) bool {
	if len(header) > MaxAuthorizationBytes {
		return false
	}
	i := strings.IndexByte(header, ' ')
	if i < 0 {
		return false
	}
	scheme, rest := header[:i], strings.TrimLeft(header[i:], " ")
	switch strings.ToLower(scheme) {
	case "basic":
		for _, c := range cfg.Basic {
			if rest == base64.StdEncoding.EncodeToString([]byte(c.User+":"+c.Password)) {
				return true
			}
		}
	case "bearer":
		for _, t := range cfg.Bearer {
			if rest == string(t) {
				return true
			}
		}
	}
	return false
}

// TestReferenceAgreesOnTheSeeds keeps the fuzz oracle honest: it accepts
// what it should.
func TestReferenceAgreesOnTheSeeds(t *testing.T) {
	cfg := AuthConfig{Basic: []BasicCredential{{User: "u", Password: "p"}}, Bearer: []BearerToken{"t"}}
	for header, want := range map[string]bool{
		basic("u:p"): true, "bAsIc   " + base64.StdEncoding.EncodeToString([]byte("u:p")): true, "Bearer t": true,
		basic("u:q"): false, "Bearer  t ": false, "Bearer": false, "t": false,
	} {
		if got := acceptedByReference(cfg, header); got != want {
			t.Errorf("acceptedByReference(%q) = %v", header, got)
		}
	}
}
