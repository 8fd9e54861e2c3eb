package middleware

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/memtest"
	"github.com/smileguard/smileguard/signer"
)

func TestDeclaredLengthAloneCostsLittleMemory(t *testing.T) {
	h := newVerifier(t, CallbackConfig{}).Handler(&recorder{})
	// The client declares the largest body allowed and hangs up before
	// sending any of it: it has spent a few hundred bytes of headers.
	request := func() {
		r := post(nil, "")
		r.Body = io.NopCloser(&failingReader{})
		r.ContentLength = DefaultMaxBodyBytes
		if code := serve(h, r).Code; code != 400 {
			t.Fatalf("status %d, want 400", code)
		}
	}
	request()

	assert.Less(t, memtest.BytesPerCall(20, request), uint64(DefaultMaxBodyBytes/8), "bytes allocated per request")
}

func TestHugeFieldValuesAreRefusedUncopied(t *testing.T) {
	huge := strings.Repeat("1", 1<<20)
	tests := []struct {
		name   string
		body   string
		status int
		reason error
	}{
		{"a megabyte timestamp", `{"signature":"x","timestamp":"` + huge + `"}`, 400, signer.ErrBadTimestamp},
		{"a megabyte signature", `{"signature":"` + huge + `","timestamp":"` + signer.FormatTimestamp(testNow) + `"}`, 401, signer.ErrMalformedSignature},
		// The timestamp is checked before the signature, whatever the
		// signature's length.
		{"a megabyte signature, a bad timestamp", `{"signature":"` + huge + `","timestamp":"garbage"}`, 400, signer.ErrBadTimestamp},
		{"a megabyte signature, a stale timestamp", `{"signature":"` + huge + `","timestamp":"` + signer.FormatTimestamp(testNow.Add(-time.Hour)) + `"}`, 401, ErrStaleTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var reason error
			v := newVerifier(t, CallbackConfig{Rejected: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reason = Reason(r)
				w.WriteHeader(StatusCode(reason))
			})})
			body := []byte(tt.body)
			request := func() int { return serve(v.Handler(&recorder{}), post(body, "")).Code }
			require.Equal(t, tt.status, request())
			require.ErrorIs(t, reason, tt.reason)
			if raceEnabled {
				return
			}

			// The body itself is read into one buffer of its size; the
			// value must not be copied a second time.
			perRequest := memtest.BytesPerCall(10, func() { request() })
			assert.Less(t, perRequest, uint64(len(tt.body))*3/2, "bytes allocated per request")
		})
	}
}

func TestTooLargeChunkedBodyClosesTheConnection(t *testing.T) {
	const limit = 4 << 10
	srv := httptest.NewServer(newVerifier(t, CallbackConfig{MaxBodyBytes: limit}).Handler(&recorder{}))
	defer srv.Close()
	post := func(body io.Reader) *http.Response {
		t.Helper()
		resp, err := srv.Client().Post(srv.URL, "application/json", body)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// An io.MultiReader hides the length: the body is sent chunked, and
	// far more of it than the server would read on to keep the connection.
	huge := strings.Repeat(" ", 4<<20)
	resp := post(io.MultiReader(strings.NewReader(`{"signature":"x",`), strings.NewReader(huge)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	assert.True(t, resp.Close, "the answer says Connection: close")

	resp = post(io.MultiReader(strings.NewReader(string(signedBody(t, productionKey, 0)))))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.False(t, resp.Close, "a body within the limit keeps the connection")
}
