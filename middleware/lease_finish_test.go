package middleware

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// flakyStore is a memory store that refuses every call while down, as a
// stalled Redis does, and counts the handled marks it took.
type flakyStore struct {
	*MemoryReplayStore
	mu      sync.Mutex
	down    bool
	handled atomic.Int32
}

var errStoreDown = errors.New("dial tcp 10.0.0.9:6379: i/o timeout")

func (s *flakyStore) isDown() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.down
}

func (s *flakyStore) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

func (s *flakyStore) Begin(ctx context.Context, d Delivery) (ReplayState, error) {
	if s.isDown() {
		return 0, errStoreDown
	}
	return s.MemoryReplayStore.Begin(ctx, d)
}

func (s *flakyStore) Renew(ctx context.Context, d Delivery) error {
	if s.isDown() {
		return errStoreDown
	}
	return s.MemoryReplayStore.Renew(ctx, d)
}

func (s *flakyStore) Finish(ctx context.Context, d Delivery, handled bool) error {
	if s.isDown() {
		return errStoreDown
	}
	err := s.MemoryReplayStore.Finish(ctx, d, handled)
	if err == nil && handled {
		s.handled.Add(1)
	}
	return err
}

// TestALostHandledMarkIsFinishedLate: the store goes down while a handler
// runs, so the handled mark cannot be made when it returns; the claim's
// lease lapses meanwhile. Once the store is back the mark is made late, and
// an exact replay of the delivery is acknowledged, not handled again.
func TestALostHandledMarkIsFinishedLate(t *testing.T) {
	memory, err := NewMemoryReplayStore(0)
	require.NoError(t, err)
	store := &flakyStore{MemoryReplayStore: memory}
	var logs strings.Builder
	v, err := NewCallbackVerifier(CallbackConfig{Keyring: testKeyring(t), Replay: store, Lease: testLease, Logger: jsonLogger(&logs)})
	require.NoError(t, err)
	next := &recorder{}
	started := make(chan struct{})
	h := v.Handler(httpHandlerFunc(func() {
		close(started)
		store.setDown(true) // the store stalls while the handler works
	}, next))
	body := freshBody(t)

	require.Equal(t, 200, serve(h, post(body, "")).Code, "handled: Smile ID gets its 200")
	<-started
	assert.Equal(t, int32(0), store.handled.Load(), "the mark was not made")
	time.Sleep(2 * testLease) // the claim's lease lapses in the store
	store.setDown(false)

	deadline := time.Now().Add(10 * time.Second)
	for store.handled.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	require.Equal(t, int32(1), store.handled.Load(), "the mark was made late")
	w := serve(h, post(body, ""))
	assert.Equal(t, 200, w.Code)
	assert.Contains(t, w.Body.String(), ErrAlreadyHandled.Error(), "the exact replay is acknowledged")
	assert.Equal(t, 1, next.count(), "and not handled again")
	assert.Contains(t, logs.String(), "took a handled mark late")
}

// httpHandlerFunc runs before, then next.
func httpHandlerFunc(before func(), next *recorder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		before()
		next.ServeHTTP(w, r)
	})
}
