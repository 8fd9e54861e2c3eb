package middleware

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInformationalAnswersAreNotTheFinalStatus(t *testing.T) {
	var calls atomic.Int32
	h := newVerifier(t, CallbackConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Link", "</style.css>; rel=preload")
		w.WriteHeader(http.StatusEarlyHints)
		w.WriteHeader(http.StatusOK)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	valid := signedBody(t, productionKey, 0)
	send := func() int {
		resp, err := srv.Client().Post(srv.URL, "application/json", bytes.NewReader(valid))
		require.NoError(t, err)
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.StatusCode
	}

	assert.Equal(t, http.StatusOK, send())
	assert.Equal(t, http.StatusOK, send())
	assert.Equal(t, int32(1), calls.Load(), "a 103 then a 200 handled the delivery: the retry is acknowledged")
}

// storeFunc is a ReplayStore made of two functions.
type storeFunc struct {
	begin  func(context.Context, Delivery) (ReplayState, error)
	finish func(context.Context, Delivery, bool) error
}

func (s storeFunc) Begin(ctx context.Context, d Delivery) (ReplayState, error) {
	return s.begin(ctx, d)
}
func (s storeFunc) Renew(context.Context, Delivery) error { return nil }
func (s storeFunc) Finish(ctx context.Context, d Delivery, handled bool) error {
	return s.finish(ctx, d, handled)
}

func TestReplayStoreErrorsStayInTheLog(t *testing.T) {
	const storeText = "dial tcp 10.9.8.7:6379: AUTH failed for user smileguard"
	tests := []struct {
		name   string
		err    error
		reason error
	}{
		{"a store's own error is answered as unavailable", errors.New(storeText), ErrReplayStore},
		{"a store's own error wrapping the sentinel likewise", fmt.Errorf("%w: %s", ErrReplayStore, storeText), ErrReplayStore},
		{"a full store says so", ErrReplayStoreFull, ErrReplayStoreFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := storeFunc{
				begin:  func(context.Context, Delivery) (ReplayState, error) { return 0, tt.err },
				finish: func(context.Context, Delivery, bool) error { return nil },
			}
			var logs strings.Builder
			var reason error
			rejected := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reason = Reason(r)
				w.WriteHeader(StatusCode(reason))
			})
			next := &recorder{}

			w := serve(newVerifier(t, CallbackConfig{Replay: store, Logger: jsonLogger(&logs)}).Handler(next),
				post(signedBody(t, productionKey, 0), ""))
			assert.Equal(t, http.StatusServiceUnavailable, w.Code)
			assert.Equal(t, tt.reason.Error()+"\n", w.Body.String())
			assert.Zero(t, next.count())
			assert.Contains(t, logs.String(), tt.err.Error(), "the operator sees what failed")

			serve(newVerifier(t, CallbackConfig{Replay: store, Rejected: rejected}).Handler(next),
				post(signedBody(t, productionKey, 0), ""))
			assert.Equal(t, tt.reason, reason, "a Rejected handler gets the sentinel, not the store's error")
		})
	}
}

func TestDeliveryIsFinishedAfterTheClientLeft(t *testing.T) {
	type ctxKey struct{}
	memory, err := NewMemoryReplayStore(0)
	require.NoError(t, err)
	var finished context.Context
	store := storeFunc{
		begin: memory.Begin,
		finish: func(ctx context.Context, d Delivery, handled bool) error {
			finished = ctx
			return memory.Finish(ctx, d, handled)
		},
	}
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), ctxKey{}, "request value"))
	defer cancel()
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Replay: store}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cancel() // the client goes away while the callback is handled
		next.ServeHTTP(w, r)
	}))
	valid := signedBody(t, productionKey, 0)

	serve(h, post(valid, "").WithContext(ctx))
	require.NotNil(t, finished)
	assert.NoError(t, finished.Err(), "Finish runs without the request's cancellation")
	assert.Nil(t, finished.Done())
	assert.Equal(t, "request value", finished.Value(ctxKey{}), "but with its values")
	assert.Equal(t, http.StatusOK, serve(h, post(valid, "")).Code)
	assert.Equal(t, 1, next.count(), "the delivery was marked handled")
}
