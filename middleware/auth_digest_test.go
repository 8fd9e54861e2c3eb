package middleware

import (
	"crypto/sha256"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests prove, without timing anything, that CallbackAuth's
// comparison cannot leak through time: it compares fixed-size SHA-256
// digests with crypto/subtle, against every accepted credential, and never
// holds the credentials themselves.

func TestCompareIsConstantTimeOnDigests(t *testing.T) {
	assert.Equal(t, reflect.ValueOf(constantTimeEqual).Pointer(), reflect.ValueOf(compareDigests).Pointer(),
		"the comparison in use is constantTimeEqual")
	// Its type admits nothing but two whole SHA-256 digests: no length to
	// exit early on.
	assert.Equal(t, reflect.TypeOf(func(x, y [sha256.Size]byte) int { return 0 }), reflect.TypeOf(compareDigests))

	var a, b [sha256.Size]byte
	assert.Equal(t, 1, constantTimeEqual(a, b))
	for i := range b {
		b = [sha256.Size]byte{}
		b[i] = 1
		assert.Equal(t, 0, constantTimeEqual(a, b), "a difference in byte %d", i)
	}
}

// compareCall is one call of compareDigests.
type compareCall struct{ presented, accepted [sha256.Size]byte }

// spyOnCompare replaces compareDigests for the test with one that records
// its calls and still compares.
func spyOnCompare(t *testing.T) *[]compareCall {
	var calls []compareCall
	real := compareDigests
	compareDigests = func(x, y [sha256.Size]byte) int {
		calls = append(calls, compareCall{x, y})
		return real(x, y)
	}
	t.Cleanup(func() { compareDigests = real })
	return &calls
}

func digestOf(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

func TestEveryAcceptedDigestIsCompared(t *testing.T) {
	cfg := testAuthConfig()
	a := newAuth(t, cfg)
	var acceptedBasic [][sha256.Size]byte
	for _, c := range cfg.Basic {
		acceptedBasic = append(acceptedBasic, digestOf(c.User+":"+c.Password))
	}
	tests := []struct {
		name      string
		header    string
		presented string // what the digest is taken of
		accepted  [][sha256.Size]byte
		ok        bool
	}{
		{"match on the first credential", basic(basicUser + ":" + oldPassword), basicUser + ":" + oldPassword, acceptedBasic, true},
		{"match on the last credential", basic(":anonymous-s3cret"), ":anonymous-s3cret", acceptedBasic, true},
		{"a one-byte credential", basic("a:"), "a:", acceptedBasic, false},
		{"a long credential", basic(basicUser + ":" + strings.Repeat("p", 2000)), basicUser + ":" + strings.Repeat("p", 2000), acceptedBasic, false},
		{"bearer token", "Bearer " + bearerToken, bearerToken, [][sha256.Size]byte{digestOf(bearerToken)}, true},
		{"short bearer token", "Bearer x", "x", [][sha256.Size]byte{digestOf(bearerToken)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := spyOnCompare(t)
			err := a.Check(withAuthorization(tt.header))
			assert.Equal(t, tt.ok, err == nil, "%v", err)
			require.Len(t, *calls, len(tt.accepted), "one comparison per accepted credential: no early exit on a match")
			for i, c := range *calls {
				assert.Equal(t, digestOf(tt.presented), c.presented, "the presented credential's SHA-256, whatever its length")
				assert.Equal(t, tt.accepted[i], c.accepted, "each accepted credential's SHA-256, in order")
			}
		})
	}

	// What is refused before any comparison is refused for its form alone,
	// which the sender already knows.
	calls := spyOnCompare(t)
	for _, h := range []string{"Basic !!!!", basic("nocolon"), "Bearer a b", "Digest x"} {
		require.Error(t, a.Check(withAuthorization(h)))
	}
	assert.Empty(t, *calls)
}

func TestCallbackAuthHoldsOnlyDigests(t *testing.T) {
	cfg := testAuthConfig()
	a := newAuth(t, cfg)
	secrets := []string{basicPassword, oldPassword, "anonymous-s3cret", bearerToken}
	var stored []string
	collectStrings(reflect.ValueOf(a), map[uintptr]bool{}, &stored)
	require.NotEmpty(t, stored, "the walk reaches the challenges")
	for _, s := range stored {
		for _, secret := range secrets {
			assert.NotContains(t, s, secret)
		}
	}
	assert.Equal(t, reflect.TypeOf(digestSet{}), reflect.TypeOf(a.digests().basic))
	assert.Equal(t, reflect.TypeOf([sha256.Size]byte{}), reflect.TypeOf(digestSet{}).Elem(), "fixed-size digests")
	assert.Len(t, a.digests().basic, 3)
	assert.Len(t, a.digests().bearer, 1)
}

// collectStrings gathers every string, and every byte slice or array as a
// string, reachable from v, unexported fields included.
func collectStrings(v reflect.Value, seen map[uintptr]bool, out *[]string) {
	switch v.Kind() {
	case reflect.String:
		*out = append(*out, v.String())
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return
		}
		if v.Kind() == reflect.Pointer {
			if seen[v.Pointer()] {
				return
			}
			seen[v.Pointer()] = true
		}
		collectStrings(v.Elem(), seen, out)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			collectStrings(v.Field(i), seen, out)
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			b := make([]byte, v.Len())
			for i := range b {
				b[i] = byte(v.Index(i).Uint())
			}
			*out = append(*out, string(b))
			return
		}
		for i := 0; i < v.Len(); i++ {
			collectStrings(v.Index(i), seen, out)
		}
	}
}
