package middleware

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer/signertest"
)

// heldBody is a request body that sends its first bytes, then waits for
// release before the rest: a client trickling a body in.
type heldBody struct {
	first, rest []byte
	release     chan struct{}
}

func (b *heldBody) Read(p []byte) (int, error) {
	if len(b.first) > 0 {
		n := copy(p, b.first)
		b.first = b.first[n:]
		return n, nil
	}
	<-b.release
	if len(b.rest) == 0 {
		return 0, io.EOF
	}
	n := copy(p, b.rest)
	b.rest = b.rest[n:]
	return n, nil
}

func (*heldBody) Close() error { return nil }

// TestASlowBodyIsJudgedWhenItHasArrived sends a leaked pair with another
// body, trickled in: the request comes while the pair is fresh, the body
// ends once the pair is stale and the replay store has forgotten it. On
// the real clock the guard judged freshness at the request's start (one
// clock reading a request), so the forged body found the store empty and
// reached the handler; it must be refused as stale. Found by review.
func TestASlowBodyIsJudgedWhenItHasArrived(t *testing.T) {
	t.Parallel()
	const tolerance = time.Second // the pair is remembered 3 s after it is first seen
	v, err := NewCallbackVerifier(CallbackConfig{Keyring: testKeyring(t), Tolerance: tolerance, Lease: tolerance})
	require.NoError(t, err)
	next := &recorder{}
	h := v.Handler(next)
	headerSigned := func(body string, h http.Header) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", bytes.NewReader([]byte(body)))
		r.Header = h.Clone()
		r.Header.Set("Content-Type", "application/json")
		return r
	}

	pair := signertest.CallbackHeaders(productionKey, time.Now())
	require.Equal(t, http.StatusOK, serve(h, headerSigned(`{"user":"alice"}`, pair)).Code, "the genuine callback")
	require.Equal(t, http.StatusUnauthorized, serve(h, headerSigned(`{"user":"mallory"}`, pair)).Code, "its pair with another body, at once")

	forged := headerSigned(`{"user":"mallory"}`, pair)
	body := &heldBody{first: []byte(`{"user"`), rest: []byte(`:"mallory"}`), release: make(chan struct{})}
	forged.Body, forged.ContentLength = body, int64(len(body.first)+len(body.rest))
	answered := make(chan int, 1)
	time.Sleep(tolerance / 2) // the pair is still fresh when the request comes
	go func() { answered <- serve(h, forged).Code }()

	time.Sleep(3*tolerance + 500*time.Millisecond) // the pair is stale, and past its TTL
	sweep := signertest.CallbackHeaders(productionKey, time.Now())
	require.Equal(t, http.StatusOK, serve(h, headerSigned(`{"user":"bob"}`, sweep)).Code, "another callback, on which the store forgets the pair")
	close(body.release)

	assert.Equal(t, http.StatusUnauthorized, <-answered, "the trickled forgery")
	for _, b := range next.bodies {
		assert.NotContains(t, string(b), "mallory", "a forged body reached the handler")
	}
}
