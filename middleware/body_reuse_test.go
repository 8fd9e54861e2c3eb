package middleware

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReusedBodyBuffersFailLateReaders keeps what CallbackConfig.ReuseBodyBuffers
// forbids past the handler's return, r.Body half read and r.GetBody, and
// reads them once the buffer holds another callback: with the option they
// fail with net/http's own error for a read after the handler returned,
// never reading the other callback's bytes; without it they read their own.
func TestReusedBodyBuffersFailLateReaders(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reuse=%v", reuse), func(t *testing.T) {
			var keptBodies []io.Reader
			var keptGetBodies []func() (io.ReadCloser, error)
			h := newVerifier(t, CallbackConfig{ReuseBodyBuffers: reuse}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := io.ReadFull(r.Body, make([]byte, 10)); err != nil { // a first look
					t.Error(err)
				}
				keptBodies = append(keptBodies, r.Body)
				keptGetBodies = append(keptGetBodies, r.GetBody)
			}))
			first := signedBody(t, productionKey, 0)
			second := signedBody(t, productionKey, 1000000, strings.Replace(callbackBody, "ADA LOVELACE", "GRACE HOPPER", 1))
			require.Equal(t, 200, serve(h, post(first, "")).Code)
			require.Equal(t, 200, serve(h, post(second, "")).Code)

			rest, restErr := io.ReadAll(keptBodies[0])
			var again []byte
			rc, err := keptGetBodies[0]()
			if err == nil {
				again, err = io.ReadAll(rc)
			}
			if reuse {
				assert.ErrorIs(t, restErr, http.ErrBodyReadAfterClose, "the kept r.Body")
				assert.ErrorIs(t, err, http.ErrBodyReadAfterClose, "the kept r.GetBody")
				assert.NotContains(t, string(rest)+string(again), "GRACE HOPPER", "a late reader reads the next callback")
				return
			}
			require.NoError(t, restErr)
			require.NoError(t, err)
			assert.Equal(t, string(first[10:]), string(rest), "without the option, a kept body stays its own")
			assert.Equal(t, string(first), string(again))
		})
	}
}

// TestReusedBodyBuffersRaceLateReaders leaves a reader running past the
// handler's return, reading its body a byte at a time while the buffer is
// taken back and lent to the next callbacks: each read either returns the
// bytes of its own body or fails, and -race finds no race.
func TestReusedBodyBuffersRaceLateReaders(t *testing.T) {
	type late struct {
		got []byte
		err error
	}
	var mu sync.Mutex
	var lates []*late
	var wg sync.WaitGroup
	h := newVerifier(t, CallbackConfig{ReuseBodyBuffers: true}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l := &late{}
		mu.Lock()
		lates = append(lates, l)
		mu.Unlock()
		wg.Add(1)
		go func(body io.Reader) { // what the option forbids: reading on after return
			defer wg.Done()
			l.got, l.err = io.ReadAll(iotest.OneByteReader(body))
		}(r.Body)
	}))
	var bodies []string
	for i := range 50 {
		body := signedBody(t, productionKey, time.Duration(i)*time.Millisecond, strings.Replace(callbackBody, "ADA LOVELACE", fmt.Sprintf("CALLBACK %03d", i), 1))
		bodies = append(bodies, string(body))
		require.Equal(t, 200, serve(h, post(body, "")).Code)
	}
	wg.Wait()
	require.Len(t, lates, len(bodies))
	failed := 0
	for i, l := range lates {
		assert.True(t, strings.HasPrefix(bodies[i], string(l.got)), "late reader %d read bytes that are not its body's", i)
		if l.err != nil {
			assert.ErrorIs(t, l.err, http.ErrBodyReadAfterClose)
			failed++
		}
	}
	t.Logf("%d of %d late readers were cut off", failed, len(lates))
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

// renewWatcher is a replay store whose first Renew reads the claim's
// timestamp, waits until the test has served another callback, and reads
// it again.
type renewWatcher struct {
	*MemoryReplayStore
	once                 sync.Once
	started, carry, done chan struct{}
	before, after        string
}

func (s *renewWatcher) Renew(ctx context.Context, d Delivery) error {
	s.once.Do(func() {
		s.before = string(d.Timestamp)
		close(s.started)
		<-s.carry
		s.after = string(d.Timestamp)
		close(s.done)
	})
	return s.MemoryReplayStore.Renew(ctx, d)
}

// TestReusedBodyBuffersKeepTheClaimsTimestamp holds a lease renewal past
// its handler's return while the next callback is read into the buffer
// the first came in: the renewal's claim must still carry its own
// timestamp (it pointed into the body, which -race reports, and read the
// next callback's bytes).
func TestReusedBodyBuffersKeepTheClaimsTimestamp(t *testing.T) {
	mem, err := NewMemoryReplayStore(100)
	require.NoError(t, err)
	store := &renewWatcher{MemoryReplayStore: mem, started: make(chan struct{}), carry: make(chan struct{}), done: make(chan struct{})}
	first := true
	h := newVerifier(t, CallbackConfig{ReuseBodyBuffers: true, Replay: store, Lease: 300 * time.Millisecond}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Error(err)
		}
		if first { // return only once the keeper renews the claim
			first = false
			select {
			case <-store.started:
			case <-time.After(10 * time.Second):
				t.Error("no renewal within 10 s")
			}
		}
	}))
	require.Equal(t, 200, serve(h, post(signedBody(t, productionKey, 0), "")).Code)
	require.Equal(t, 200, serve(h, post(signedBody(t, productionKey, 5*time.Second), "")).Code)
	close(store.carry)
	<-store.done
	assert.Equal(t, store.before, store.after, "the renewal's timestamp changed under it")
}
