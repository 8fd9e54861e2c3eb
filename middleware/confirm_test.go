package middleware

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer/signertest"
)

// fakeConfirmer vouches for the bodies it knows, refutes the others, and
// fails while down.
type fakeConfirmer struct {
	mu      sync.Mutex
	genuine map[string]bool
	down    bool
	asked   []string
}

func (c *fakeConfirmer) Confirm(_ context.Context, _ Callback, body []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.asked = append(c.asked, string(body))
	switch {
	case c.down:
		return errors.New("dial tcp: api.smileidentity.com: connection refused")
	case c.genuine[string(body)]:
		return nil
	}
	return fmt.Errorf("job 0000000002: result code differs: %w", ErrNotConfirmed)
}

func (c *fakeConfirmer) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.asked)
}

// twins returns two genuine bodies of different jobs signed with one key
// in one millisecond: one (signature, timestamp) pair.
func twins(t *testing.T) (first, second []byte) {
	first = signedBody(t, productionKey, 0)
	second = signedBody(t, productionKey, 0, strings.Replace(callbackBody, `"SmileJobID":"0000000001"`, `"SmileJobID":"0000000002"`, 1))
	return first, second
}

func TestSameMillisecondTwinSurvivesWhenSmileIDVouchesForIt(t *testing.T) {
	first, second := twins(t)
	tampered := []byte(strings.Replace(string(second), `"ResultCode":"1012"`, `"ResultCode":"1022"`, 1))
	confirmer := &fakeConfirmer{genuine: map[string]bool{string(first): true, string(second): true}}
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Confirm: confirmer}).Handler(next)

	assert.Equal(t, 200, serve(h, post(first, "")).Code, "the first twin")
	assert.Equal(t, 0, confirmer.count(), "a new pair is not asked about")
	assert.Equal(t, 200, serve(h, post(second, "")).Code, "the second twin, vouched for")
	assert.Equal(t, 1, confirmer.count())
	require.Equal(t, 2, next.count())
	assert.Equal(t, second, next.bodies[1])
	assert.True(t, next.seen[1].Confirmed)
	assert.False(t, next.seen[0].Confirmed)

	w := serve(h, post(second, ""))
	assert.Equal(t, 200, w.Code, "the second twin's retry")
	assert.Contains(t, w.Body.String(), ErrAlreadyHandled.Error(), "acknowledged, not handled again")
	assert.Equal(t, 200, serve(h, post(first, "")).Code, "the first twin's retry")
	assert.Equal(t, 2, next.count())

	w = serve(h, post(tampered, ""))
	assert.Equal(t, 401, w.Code, "a tampered body Smile ID refutes stays a 401")
	assert.Contains(t, w.Body.String(), ErrNotConfirmed.Error())
	assert.NotContains(t, w.Body.String(), "result code", "the confirmer's own text is not the client's")

	confirmer.down = true
	other := []byte(strings.Replace(string(first), `"job-1"`, `"job-9"`, 1))
	assert.Equal(t, 503, serve(h, post(other, "")).Code, "could not ask: Smile ID's retry will")
	assert.Equal(t, 2, next.count())
}

func TestWithoutConfirmerATwinIsAReplay(t *testing.T) {
	first, second := twins(t)
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{}).Handler(next)
	assert.Equal(t, 200, serve(h, post(first, "")).Code)
	assert.Equal(t, 401, serve(h, post(second, "")).Code, "the contract: a conflicting body is a 401")
	assert.Equal(t, 1, next.count())
}

func TestConfirmEveryAsksBeforeTheHandlerRuns(t *testing.T) {
	first, second := twins(t)
	confirmer := &fakeConfirmer{genuine: map[string]bool{string(first): true}}
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Confirm: confirmer, ConfirmEvery: true}).Handler(next)

	assert.Equal(t, 401, serve(h, post(second, "")).Code, "refuted before the handler ran")
	assert.Equal(t, 0, next.count())
	assert.Equal(t, 200, serve(h, post(first, "")).Code, "the genuine body of the pair, though it came second")
	assert.Equal(t, 1, next.count())
	assert.True(t, next.seen[0].Confirmed)
	assert.Equal(t, 2, confirmer.count())
	assert.Equal(t, 200, serve(h, post(first, "")).Code, "its retry")
	assert.Equal(t, 1, next.count(), "acknowledged")

	confirmer.down = true
	third := signedBody(t, productionKey, 1, strings.Replace(callbackBody, "job-1", "job-3", 1))
	assert.Equal(t, 503, serve(h, post(third, "")).Code)
	confirmer.down = false
	confirmer.genuine[string(third)] = true
	assert.Equal(t, 200, serve(h, post(third, "")).Code, "a refusal for want of an answer released the claim")
	assert.Equal(t, 2, next.count())

	_, err := NewCallbackVerifier(CallbackConfig{Keyring: testKeyring(t), ConfirmEvery: true})
	assert.EqualError(t, err, "middleware: CallbackConfig.ConfirmEvery is set but Confirm is nil")
}

func TestConfirmFailureIsLoggedWithoutTheBody(t *testing.T) {
	first, second := twins(t)
	var logs strings.Builder
	h := newVerifier(t, CallbackConfig{Confirm: &fakeConfirmer{down: true}, Logger: jsonLogger(&logs)}).Handler(&recorder{})
	serve(h, post(first, ""))
	assert.Equal(t, http.StatusServiceUnavailable, serve(h, post(second, "")).Code)
	assert.Contains(t, logs.String(), `"level":"ERROR","msg":"smileguard: could not confirm a callback with Smile ID","error":"dial tcp: api.smileidentity.com: connection refused"`)
	assert.NotContains(t, logs.String(), "0000000002")
}

// slowConfirmer vouches for every body after a delay.
type slowConfirmer struct{ delay time.Duration }

func (c slowConfirmer) Confirm(ctx context.Context, _ Callback, _ []byte) error {
	select {
	case <-time.After(c.delay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// TestConfirmEveryRenewsTheClaimWhileSmileIDIsAsked asks a Confirmer that
// takes longer than the lease: the claim must be renewed meanwhile, so
// that an exact copy sent then is told the delivery is in flight (409)
// instead of taking the lapsed claim and running the handler a second
// time. Found by review: the claim was renewed only once the handler ran.
func TestConfirmEveryRenewsTheClaimWhileSmileIDIsAsked(t *testing.T) {
	t.Parallel()
	const lease = 300 * time.Millisecond
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Now: time.Now, Lease: lease, Confirm: slowConfirmer{2 * lease}, ConfirmEvery: true}).Handler(next)
	body, err := signertest.SignCallback(productionKey, []byte(callbackBody), time.Now())
	require.NoError(t, err)

	first := make(chan int, 1)
	go func() { first <- serve(h, post(body, "")).Code }()
	time.Sleep(lease + lease/2) // the first is still asking Smile ID, past its first lease
	copyCode := serve(h, post(body, "")).Code
	assert.Equal(t, http.StatusOK, <-first)
	assert.Equal(t, http.StatusConflict, copyCode, "the copy, while the first is in flight")
	assert.Equal(t, 1, next.count(), "the handler ran once")
}
