package middleware

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer/signertest"
)

// testLease is short, so that these tests see leases lapse and renew in
// about a second; the renewal runs every third of it.
const testLease = 600 * time.Millisecond

// freshBody signs callbackBody now, on the real clock these tests run on.
func freshBody(t *testing.T) []byte {
	b, err := signertest.SignCallback(productionKey, []byte(callbackBody), time.Now())
	require.NoError(t, err)
	return b
}

// blockingHandler holds every request until release is closed, and counts
// them.
type blockingHandler struct {
	started chan struct{}
	release chan struct{}
	runs    atomic.Int32
}

func newBlockingHandler() *blockingHandler {
	return &blockingHandler{started: make(chan struct{}, 10), release: make(chan struct{})}
}

func (h *blockingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.runs.Add(1)
	h.started <- struct{}{}
	<-h.release
}

func TestALongHandlerKeepsItsClaimByRenewingIt(t *testing.T) {
	ring := testKeyring(t)
	v, err := NewCallbackVerifier(CallbackConfig{Keyring: ring, Lease: testLease})
	require.NoError(t, err)
	next := newBlockingHandler()
	h := v.Handler(next)
	body := freshBody(t)

	done := make(chan int)
	go func() { done <- serve(h, post(body, "")).Code }()
	<-next.started
	time.Sleep(3 * testLease) // three leases: only renewal keeps the claim
	retry := make(chan int, 1)
	go func() { retry <- serve(h, post(body, "")).Code }()
	select {
	case code := <-retry:
		assert.Equal(t, http.StatusConflict, code, "the retry finds the claim still held")
	case <-next.started:
		t.Error("the retry reached the handler: the claim lapsed while its handler ran")
	}
	close(next.release)
	assert.Equal(t, 200, <-done)
	assert.Equal(t, int32(1), next.runs.Load())
	assert.Equal(t, 200, serve(h, post(body, "")).Code, "then acknowledged")
	assert.Equal(t, int32(1), next.runs.Load())
}

func TestAClaimWhoseClientLeftLapsesAndTheRetryIsProcessed(t *testing.T) {
	var logs strings.Builder
	v, err := NewCallbackVerifier(CallbackConfig{Keyring: testKeyring(t), Lease: testLease, Logger: jsonLogger(&logs)})
	require.NoError(t, err)
	next := newBlockingHandler()
	h := v.Handler(next)
	body := freshBody(t)

	ctx, leave := context.WithCancel(context.Background())
	done := make(chan int)
	go func() { done <- serve(h, post(body, "").WithContext(ctx)).Code }()
	<-next.started
	leave() // Smile ID's client gave up waiting; the handler is stuck

	retried := make(chan int)
	go func() {
		deadline := time.Now().Add(10 * testLease)
		for {
			code := serve(h, post(body, "")).Code
			if code != http.StatusConflict || time.Now().After(deadline) {
				retried <- code
				return
			}
			time.Sleep(testLease / 4)
		}
	}()
	<-next.started // the retry reached the handler: the stuck claim lapsed
	close(next.release)
	assert.Equal(t, 200, <-retried)
	<-done
	assert.Equal(t, int32(2), next.runs.Load(), "the documented trade-off: a handler that outlives its lease can run twice")
	assert.Contains(t, logs.String(), "outlived its claim's lease", "and it is reported")
}

func TestLeaseIsValidated(t *testing.T) {
	ring := testKeyring(t)
	_, err := NewCallbackVerifier(CallbackConfig{Keyring: ring, Lease: -time.Second})
	assert.EqualError(t, err, "middleware: CallbackConfig.Lease -1s is negative")
	_, err = NewCallbackVerifier(CallbackConfig{Keyring: ring, Lease: 6 * time.Minute})
	assert.ErrorContains(t, err, "CallbackConfig.Lease 6m0s is over the Tolerance 5m0s")
	v, err := NewCallbackVerifier(CallbackConfig{Keyring: ring, Tolerance: 5 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 5*time.Second, v.lease, "the default lease never exceeds a short tolerance")
	v, err = NewCallbackVerifier(CallbackConfig{Keyring: ring})
	require.NoError(t, err)
	assert.Equal(t, DefaultLease, v.lease)
}
