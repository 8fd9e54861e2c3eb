package middleware

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReusedBodyBuffersShowTheHazard keeps r.GetBody past the handler's
// return, which CallbackConfig.ReuseBodyBuffers forbids: with the option the
// kept body reads another callback's bytes; without it, its own.
func TestReusedBodyBuffersShowTheHazard(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		var kept []func() (io.ReadCloser, error)
		h := newVerifier(t, CallbackConfig{ReuseBodyBuffers: reuse}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := io.ReadAll(r.Body); err != nil { // read in full, as handlers must
				t.Error(err)
			}
			kept = append(kept, r.GetBody) // what ReuseBodyBuffers forbids
		}))
		first := signedBody(t, productionKey, 0)
		second := signedBody(t, productionKey, 1000000, strings.Replace(callbackBody, "ADA LOVELACE", "GRACE HOPPER", 1))
		require.Equal(t, 200, serve(h, post(first, "")).Code)
		require.Equal(t, 200, serve(h, post(second, "")).Code)
		rc, err := kept[0]()
		require.NoError(t, err)
		afterwards, err := io.ReadAll(rc)
		require.NoError(t, err)
		if reuse {
			assert.NotEqual(t, string(first), string(afterwards), "with ReuseBodyBuffers the first body's buffer held the second")
			assert.Contains(t, string(afterwards), "GRACE HOPPER")
		} else {
			assert.Equal(t, string(first), string(afterwards), "without it, a kept body stays its own")
		}
	}
}

// TestReusedBodyBuffersAnswerAlike runs the answers of body- and
// header-signed callbacks again with ReuseBodyBuffers: the option changes
// no answer, and each handler reads the exact bytes that arrived.
func TestReusedBodyBuffersAnswerAlike(t *testing.T) {
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{ReuseBodyBuffers: true, MaxBodyBytes: 4096}).Handler(next)
	big := padTo(t, signedBody(t, productionKey, 3000000), 4000)
	for i, tt := range []struct {
		req    *http.Request
		status int
	}{
		{post(signedBody(t, productionKey, 0), ""), 200},
		{post([]byte(`{"signature":"x"}`), ""), 400},
		{post(padTo(t, signedBody(t, productionKey, 2000000), 5000), ""), 413},
		{headerSigned(productionKey, 5000000, "", v3Body, ""), 200},
		{post(big, ""), 200}, // a buffer grown by a large body, then
		{post(signedBody(t, productionKey, 4000000), ""), 200}, // a small one in it
		{post(signedBody(t, productionKey, 0), ""), 200},       // a retry: acknowledged
	} {
		sent := sentBytes(tt.req)
		w := serve(h, tt.req)
		assert.Equal(t, tt.status, w.Code, "request %d: %s", i, w.Body)
		if tt.status == 200 && w.Body.String() == "handled" {
			assert.Equal(t, string(sent), string(next.bodies[len(next.bodies)-1]), "request %d reads its own bytes", i)
		}
	}
	assert.Equal(t, 4, next.count())
}
