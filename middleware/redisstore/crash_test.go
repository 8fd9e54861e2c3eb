//go:build unix

package redisstore

import (
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An instance killed (kill -9) while its handler runs holds its claim no
// longer than its lease: Smile ID's retry to the other instance is handled
// within one lease of the claim, and only once.
func TestKilledInstancesClaimIsTakenOverWithinALease(t *testing.T) {
	const lease = 2 * time.Second
	srv := startRedis(t)
	record := filepath.Join(t.TempDir(), "record")
	opts := guardOptions{lease: lease, timeout: 250 * time.Millisecond}
	a := startGuard(t, srv, record, guardOptions{name: "a", block: true, lease: opts.lease, timeout: opts.timeout})
	opts.name = "b"
	b := startGuard(t, srv, record, opts)
	body := genuine(t, 1)[0]
	smile := newSmileID(5*time.Second, b)
	// Retries every 200 ms for about six seconds: well past the lease, so
	// that a loaded machine's delays cannot use them all up before it
	// lapses; the assertion below holds the take-over to the lease.
	smile.first, smile.most, smile.attempts = 50*time.Millisecond, 200*time.Millisecond, 30

	go smile.post(a, body) // the first attempt: a's handler starts and never returns
	claimed := waitFor(t, 5*time.Second, "a's handler starts", func() bool {
		started, _ := runs(t, record, body)
		return started == 1
	})
	a.kill()

	answers := smile.deliver(body)
	require.True(t, handled(answers), "answers: %v", statuses(answers))
	last := answers[len(answers)-1]
	assert.Less(t, last.at.Sub(claimed), lease+time.Second, "handled within one lease of the claim: %v", statuses(answers))
	if answers[0].at.Sub(claimed) < lease/2 {
		assert.Equal(t, http.StatusConflict, answers[0].status, "while the lease lasted the claim held")
	}
	started, done := runs(t, record, body)
	assert.Equal(t, 2, started, "a's run, cut off, and b's")
	assert.Equal(t, 1, done, "handled once")

	assert.Equal(t, 200, smile.post(b, body).status, "a later retry is acknowledged")
	started, _ = runs(t, record, body)
	assert.Equal(t, 2, started, "not processed again")
}

// Redis stopped (SIGSTOP) for longer than the client's timeout, while the
// guards claim callbacks or finish them, then resumed (SIGCONT): the
// guards answer 503 meanwhile, and every genuine callback is eventually
// handled exactly once. The stop is shorter than a lease: a stall longer
// than a lease is the trade-off leases make (see ReplayStore).
func TestRedisStalledDuringBeginAndFinish(t *testing.T) {
	const (
		lease   = 2 * time.Second
		timeout = 250 * time.Millisecond
		stall   = 3 * timeout
	)
	t.Run("during Begin", func(t *testing.T) {
		srv := startRedis(t)
		record := filepath.Join(t.TempDir(), "record")
		a := startGuard(t, srv, record, guardOptions{name: "a", lease: lease, timeout: timeout})
		b := startGuard(t, srv, record, guardOptions{name: "b", lease: lease, timeout: timeout})
		smile := newSmileID(5*time.Second, a, b)
		bodies := genuine(t, 4)
		// Guards that have handled a callback: Redis knows the Begin
		// script, so that a claim it gets late is made, not refused as
		// NOSCRIPT.
		require.True(t, handled(smile.deliver(bodies[3])))

		srv.signal(t, syscall.SIGSTOP)
		stopped := time.Now()
		var wg sync.WaitGroup
		bodies = bodies[:3]
		first := make([]answer, len(bodies))
		for i, body := range bodies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first[i] = smile.post(a, body) // Begin waits for a stopped Redis
			}()
		}
		wg.Wait()
		for i, f := range first {
			assert.Equal(t, http.StatusServiceUnavailable, f.status, "callback %d while Redis is stopped", i)
		}
		time.Sleep(time.Until(stopped.Add(stall)))
		srv.signal(t, syscall.SIGCONT) // Redis runs the claims the guards gave up on

		all := make([][]answer, len(bodies))
		for i, body := range bodies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				all[i] = smile.deliver(body)
			}()
		}
		wg.Wait()
		for i, body := range bodies {
			require.True(t, handled(all[i]), "callback %d: %v", i, statuses(all[i]))
			started, done := runs(t, record, body)
			assert.Equal(t, 1, started, "callback %d runs once", i)
			assert.Equal(t, 1, done, "callback %d is handled once", i)
			assert.Contains(t, statuses(all[i]), http.StatusConflict, "callback %d: Redis made the claim late: %v", i, statuses(all[i]))
			assert.Less(t, all[i][len(all[i])-1].at.Sub(stopped), stall+lease+time.Second,
				"callback %d is handled once the claim Redis made late has lapsed: %v", i, statuses(all[i]))
		}
	})
	t.Run("during Finish", func(t *testing.T) {
		srv := startRedis(t)
		record := filepath.Join(t.TempDir(), "record")
		a := startGuard(t, srv, record, guardOptions{name: "a", lease: lease, timeout: timeout, delay: 300 * time.Millisecond})
		b := startGuard(t, srv, record, guardOptions{name: "b", lease: lease, timeout: timeout})
		// Smile ID gives up on an answer before the stalled Finish ends,
		// and retries. Redis has not run the Finish script yet: the guard
		// sends it whole, so that Redis runs it when it resumes.
		smile := newSmileID(400*time.Millisecond, a, b)
		body := genuine(t, 1)[0]

		answers := make(chan []answer, 1)
		go func() { answers <- smile.deliver(body) }()
		waitFor(t, 5*time.Second, "a's handler starts", func() bool {
			started, _ := runs(t, record, body)
			return started == 1
		})
		srv.signal(t, syscall.SIGSTOP) // Finish waits for a stopped Redis
		stopped := time.Now()
		waitFor(t, 5*time.Second, "a's handler returns", func() bool {
			_, done := runs(t, record, body)
			return done == 1
		})
		time.Sleep(time.Until(stopped.Add(stall)))
		srv.signal(t, syscall.SIGCONT) // Redis runs the Finish the guard gave up on

		got := <-answers
		require.True(t, handled(got), "answers: %v", statuses(got))
		started, done := runs(t, record, body)
		assert.Equal(t, 1, started, "runs once: %v", statuses(got))
		assert.Equal(t, 1, done)
		assert.Equal(t, 200, smile.post(b, body).status, "a later retry is acknowledged")
	})
}

// Redis restarted mid-run: while it is down the guards answer 503, failing
// closed, and they recover without a restart of their own. Callbacks in
// flight meanwhile are each handled once.
func TestRedisRestartedMidRun(t *testing.T) {
	const timeout = 250 * time.Millisecond
	srv := startRedis(t)
	record := filepath.Join(t.TempDir(), "record")
	a := startGuard(t, srv, record, guardOptions{name: "a", lease: 2 * time.Second, timeout: timeout})
	b := startGuard(t, srv, record, guardOptions{name: "b", lease: 2 * time.Second, timeout: timeout})
	smile := newSmileID(5*time.Second, a, b)
	bodies := genuine(t, 6)

	require.True(t, handled(smile.deliver(bodies[0])))
	srv.stop()
	for _, g := range []*guardProcess{a, b} {
		assert.Equal(t, http.StatusServiceUnavailable, smile.post(g, bodies[0]).status, "guard %s, a handled callback", g.name)
		assert.Equal(t, http.StatusServiceUnavailable, smile.post(g, bodies[1]).status, "guard %s, a new one", g.name)
	}
	// Smile ID keeps delivering while Redis is down, and after.
	var wg sync.WaitGroup
	all := make([][]answer, len(bodies))
	for i := 1; i < len(bodies); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			all[i] = smile.deliver(bodies[i])
		}()
	}
	time.Sleep(time.Second)
	srv.restart()
	wg.Wait()
	for i := 1; i < len(bodies); i++ {
		require.True(t, handled(all[i]), "callback %d: %v", i, statuses(all[i]))
		assert.Contains(t, statuses(all[i]), http.StatusServiceUnavailable, "callback %d met the outage", i)
		started, done := runs(t, record, bodies[i])
		assert.Equal(t, 1, started, "callback %d runs once", i)
		assert.Equal(t, 1, done, "callback %d", i)
	}
	started, _ := runs(t, record, bodies[0])
	assert.Equal(t, 1, started, "nothing reached a handler unchecked")
}

// A handler that runs longer than its lease keeps its claim while the
// verifier renews it (every third of its lease): retries to the other
// instance meanwhile are refused with 409, and the callback is handled
// once.
func TestRenewedClaimOutlivesItsLease(t *testing.T) {
	const lease = 1500 * time.Millisecond
	srv := startRedis(t)
	record := filepath.Join(t.TempDir(), "record")
	a := startGuard(t, srv, record, guardOptions{name: "a", lease: lease, delay: 2*lease + lease/2, timeout: 250 * time.Millisecond})
	b := startGuard(t, srv, record, guardOptions{name: "b", lease: lease, timeout: 250 * time.Millisecond})
	smile := newSmileID(4*lease, b) // Smile ID waits out the slow handler: its client stays, so the claim is renewed
	body := genuine(t, 1)[0]

	first := make(chan answer, 1)
	go func() { first <- smile.post(a, body) }()
	claimed := waitFor(t, 5*time.Second, "a's handler starts", func() bool {
		started, _ := runs(t, record, body)
		return started == 1
	})
	for {
		if _, _, renewed := records(t, record, body); renewed > 0 {
			break
		}
		if time.Since(claimed) > lease {
			t.Fatal("the verifier did not renew the claim within its lease")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var retries []int
	for {
		select {
		case got := <-first:
			assert.Equal(t, 200, got.status)
			assert.NotEmpty(t, retries)
			for i, status := range retries {
				assert.Equal(t, http.StatusConflict, status, "retry %d of %v while a's handler ran", i, retries)
			}
			started, done := runs(t, record, body)
			assert.Equal(t, 1, started, "runs once")
			assert.Equal(t, 1, done)
			assert.Equal(t, 200, smile.post(b, body).status, "a later retry is acknowledged")
			return
		case <-time.After(500 * time.Millisecond):
			retries = append(retries, smile.post(b, body).status)
		}
	}
}
