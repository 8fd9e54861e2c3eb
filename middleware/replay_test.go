package middleware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

func TestReplayDefence(t *testing.T) {
	valid := signedBody(t, productionKey, 0)
	tampered := bytes.Replace(valid, []byte(`"ResultCode":"1012"`), []byte(`"ResultCode":"1013"`), 1)
	require.NotEqual(t, valid, tampered)
	reordered := bytes.Replace(valid, []byte(`{"SmileJobID"`), []byte(`{ "SmileJobID"`), 1)
	// The same pair spelled with JSON escapes, carrying a tampered body.
	escapedSignature := escapeFirstByte(t, tampered, "signature")
	escapedTimestamp := escapeFirstByte(t, tampered, "timestamp")

	type step struct {
		body        []byte
		nextStatus  int // what next answers when it runs; 0: 200
		status      int
		reachesNext bool
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"a retried delivery is acknowledged, not processed twice", []step{
			{valid, 0, 200, true},
			{valid, 0, 200, false},
			{valid, 0, 200, false},
		}},
		{"the same pair with a tampered body is refused", []step{
			{valid, 0, 200, true},
			{tampered, 0, 401, false},
		}},
		{"a tampered body first binds the pair against the genuine one", []step{
			{tampered, 0, 200, true},
			{valid, 0, 401, false},
		}},
		{"white space changes the body", []step{
			{valid, 0, 200, true},
			{reordered, 0, 401, false},
		}},
		{"a delivery the handler failed is released for the retry", []step{
			{valid, 500, 500, true},
			{valid, 0, 200, true},
			{valid, 0, 200, false},
		}},
		{"a released pair stays bound to its body", []step{
			{valid, 503, 503, true},
			{tampered, 0, 401, false},
			{valid, 0, 200, true},
		}},
		{"the pair spelled with escapes is the same pair", []step{
			{valid, 0, 200, true},
			{escapedSignature, 0, 401, false},
			{escapedTimestamp, 0, 401, false},
		}},
		{"a 4xx from the handler releases too", []step{
			{valid, 422, 422, true},
			{valid, 202, 202, true},
			{valid, 0, 200, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &recorder{}
			h := newVerifier(t, CallbackConfig{}).Handler(next)
			for i, s := range tt.steps {
				next.status = s.nextStatus
				before := next.count()
				w := serve(h, post(s.body, "production"))
				assert.Equal(t, s.status, w.Code, "step %d: %s", i, w.Body)
				assert.Equal(t, s.reachesNext, next.count() == before+1, "step %d", i)
			}
		})
	}
}

// escapeFirstByte returns body with the first byte of the string value of
// its top-level member name written as a \u00XX escape, which decodes to
// the same string.
func escapeFirstByte(t *testing.T, body []byte, name string) []byte {
	t.Helper()
	prefix := []byte(`"` + name + `":"`)
	i := bytes.Index(body, prefix)
	require.GreaterOrEqual(t, i, 0, name)
	at := i + len(prefix)
	out := append([]byte(nil), body[:at]...)
	out = append(out, fmt.Sprintf(`\u%04x`, body[at])...)
	return append(out, body[at+1:]...)
}

func TestInFlightDeliveryGets409(t *testing.T) {
	next := &recorder{block: make(chan struct{})}
	h := newVerifier(t, CallbackConfig{}).Handler(next)
	valid := signedBody(t, productionKey, 0)

	first := make(chan int)
	go func() { first <- serve(h, post(valid, "")).Code }()
	require.Eventually(t, func() bool { return next.count() == 1 }, 5*time.Second, time.Millisecond)

	w := serve(h, post(valid, ""))
	assert.Equal(t, http.StatusConflict, w.Code)
	close(next.block)
	assert.Equal(t, 200, <-first)
	assert.Equal(t, 200, serve(h, post(valid, "")).Code)
	assert.Equal(t, 1, next.count())
}

func TestConcurrentIdenticalDeliveriesReachTheHandlerOnce(t *testing.T) {
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{}).Handler(next)
	valid := signedBody(t, productionKey, 0)
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- serve(h, post(valid, "")).Code
		}()
	}
	wg.Wait()
	close(codes)
	for code := range codes {
		assert.Contains(t, []int{200, 409}, code)
	}
	assert.Equal(t, 1, next.count())
}

func TestPanickingHandlerReleasesTheDelivery(t *testing.T) {
	calls := 0
	h := newVerifier(t, CallbackConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls++
		if calls == 1 {
			panic(http.ErrAbortHandler)
		}
	}))
	valid := signedBody(t, productionKey, 0)
	assert.PanicsWithValue(t, http.ErrAbortHandler, func() { serve(h, post(valid, "")) })
	assert.Equal(t, 200, serve(h, post(valid, "")).Code)
	assert.Equal(t, 2, calls, "the retry after a panic is processed")
	assert.Equal(t, 200, serve(h, post(valid, "")).Code)
	assert.Equal(t, 2, calls)
}

func TestReplayEntriesExpireAfterTwiceTheTolerance(t *testing.T) {
	store, err := NewMemoryReplayStore(0)
	require.NoError(t, err)
	now := testNow
	clock := func() time.Time { return now }
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Replay: store, Now: clock, Tolerance: time.Minute}).Handler(next)
	body := signedBody(t, productionKey, time.Minute) // signed at the edge of the future window

	require.Equal(t, 200, serve(h, post(body, "")).Code)
	// At twice the tolerance the timestamp, one tolerance in the past,
	// still passes the freshness check: the entry must outlive it.
	now = now.Add(2 * time.Minute)
	assert.Equal(t, 200, serve(h, post(body, "")).Code)
	assert.Equal(t, 1, next.count(), "still remembered at twice the tolerance")
	assert.Equal(t, 1, store.Len())

	now = testNow.Add(2*time.Minute + time.Second)
	w := serve(h, post(body, ""))
	assert.Equal(t, 401, w.Code, "by the time the entry expires the timestamp is stale")
	fresh, err := signertest.SignCallback(productionKey, []byte(callbackBody), now)
	require.NoError(t, err)
	require.Equal(t, 200, serve(h, post(fresh, "")).Code)
	assert.Equal(t, 1, store.Len(), "the expired entry was swept when the next delivery came")
}

func TestTamperedReplayIsLoggedAtWarn(t *testing.T) {
	valid := signedBody(t, productionKey, 0)
	tampered := bytes.Replace(valid, []byte(`"ResultCode":"1012"`), []byte(`"ResultCode":"1013"`), 1)
	var logs strings.Builder
	h := newVerifier(t, CallbackConfig{Logger: jsonLogger(&logs)}).Handler(&recorder{})
	require.Equal(t, 200, serve(h, post(valid, "")).Code)
	logs.Reset()

	assert.Equal(t, 401, serve(h, post(tampered, "")).Code)
	assert.Contains(t, logs.String(), `"level":"WARN"`)
	assert.Contains(t, logs.String(), ErrReplayed.Error())
	var fields struct{ Signature string }
	require.NoError(t, json.Unmarshal(valid, &fields))
	assert.NotContains(t, logs.String(), fields.Signature, "the signature is not logged")
	assert.NotContains(t, logs.String(), "1013", "the body is not logged")
}

func TestFullReplayStoreFailsClosed(t *testing.T) {
	store, err := NewMemoryReplayStore(2)
	require.NoError(t, err)
	var logs strings.Builder
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Replay: store, Logger: jsonLogger(&logs)}).Handler(next)
	for i := 0; i < 2; i++ {
		require.Equal(t, 200, serve(h, post(signedBody(t, productionKey, time.Duration(i)*time.Second), "")).Code)
	}
	w := serve(h, post(signedBody(t, productionKey, 3*time.Second), ""))
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, 2, next.count())
	assert.Contains(t, logs.String(), `"level":"ERROR"`)
	assert.Contains(t, logs.String(), "replay store is full")
	assert.Equal(t, 200, serve(h, post(signedBody(t, productionKey, 0), "")).Code, "known deliveries are still answered")
}

// The states are checked by TestMemoryReplayStoreConformance
// (middleware/replaytest), which the Redis store passes too.
func TestMemoryReplayStoreConfig(t *testing.T) {
	_, err := NewMemoryReplayStore(-1)
	require.Error(t, err)
	assert.Equal(t, "conflict", ReplayConflict.String())
	assert.Equal(t, "unknown", ReplayState(0).String())
}

func TestMemoryReplayStoreExpiresInTimeOrder(t *testing.T) {
	store, err := NewMemoryReplayStore(1000)
	require.NoError(t, err)
	ctx := context.Background()
	// Entries with mixed TTLs: the heap must pop them in expiry order.
	for i := 0; i < 500; i++ {
		ttl := time.Duration((i*7919)%500+1) * time.Second
		_, err := store.Begin(ctx, Delivery{ID: sha256.Sum256([]byte{byte(i), byte(i >> 8)}), Now: testNow, TTL: ttl})
		require.NoError(t, err)
	}
	for s := 1; s <= 500; s++ {
		_, err := store.Begin(ctx, Delivery{ID: sha256.Sum256([]byte("probe")), Now: testNow.Add(time.Duration(s) * time.Second), TTL: time.Nanosecond})
		require.NoError(t, err)
		assert.Equal(t, 500-s+1, store.Len(), "after %ds", s) // the probe itself is live
	}
}

func TestKeysRotatedMidStream(t *testing.T) {
	ring, err := signer.NewKeyring(productionKey)
	require.NoError(t, err)
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Keyring: ring}).Handler(next)
	newKey := signer.Key{ID: "production-2027", PartnerID: "1622", APIKey: "production-api-key-0002", Environment: signer.Production}

	assert.Equal(t, 200, serve(h, post(signedBody(t, productionKey, 0), "")).Code)
	assert.Equal(t, 401, serve(h, post(signedBody(t, newKey, 1*time.Second), "")).Code, "the new key is not known yet")

	require.NoError(t, ring.Replace(productionKey, newKey)) // step 1: add the new key
	assert.Equal(t, 200, serve(h, post(signedBody(t, newKey, 2*time.Second), "")).Code)
	assert.Equal(t, 200, serve(h, post(signedBody(t, productionKey, 3*time.Second), "")).Code, "old jobs' callbacks still verify")

	old := productionKey
	old.NotAfter = testNow // step 2: retire the old key
	require.NoError(t, ring.Replace(old, newKey))
	assert.Equal(t, 401, serve(h, post(signedBody(t, productionKey, 4*time.Second), "")).Code)
	assert.Equal(t, 200, serve(h, post(signedBody(t, newKey, 5*time.Second), "")).Code)
	assert.Equal(t, []string{"production-2026", "production-2027", "production-2026", "production-2027"}, keyIDs(next.seen))
}

func keyIDs(cbs []Callback) []string {
	ids := make([]string, len(cbs))
	for i, cb := range cbs {
		ids[i] = cb.KeyID
	}
	return ids
}
