//go:build unix

package load

import (
	"flag"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	runFaults = flag.Bool("load-faults", false, "run the fault test: two smileguard proxy processes sharing a redis-server, one killed and Redis stopped for 2 s mid-run")
	faultLogs = flag.String("load-faults-logs", "", "directory for the proxies' whole logs (a.log, b.log), at --log-level info")
)

// The fault run's schedule and bounds.
const (
	faultDuration = 20 * time.Second // of new traffic; the retries drain after it
	faultClients  = 100
	faultKillAt   = 6 * time.Second  // instance a gets SIGKILL
	faultStallAt  = 12 * time.Second // Redis gets SIGSTOP
	faultStall    = 2 * time.Second  // then SIGCONT

	// The proxies' claims lapse after faultLease without renewal; each
	// call to Redis waits at most faultRedisTimeout. The lease is longer
	// than the stall: what SECURITY.md promises of a Redis that stops
	// holds for a stop shorter than a lease (a longer one is the lease
	// trade-off), and a claim made just before the stop must still hold
	// when Redis resumes.
	faultLease        = 3 * time.Second
	faultRedisTimeout = 500 * time.Millisecond

	faultMaxRequests = 1_000_000 // whatever the speed of the machine, the run ends by then
	faultMaxGenuine  = 150_000   // the milliseconds three minutes hold, less a margin
	faultDrain       = 30 * time.Second
)

// TestLoadFaults runs the smileguard proxy as it is deployed behind a load
// balancer, two processes sharing one redis-server, in front of one
// upstream, for 20 seconds of genuine and hostile traffic from 100
// loopback clients, and strikes it with two faults: instance a is killed
// (SIGKILL) at 6 s and not restarted, and Redis is stopped (SIGSTOP) at
// 12 s for 2 s. The clients play Smile ID, retrying each genuine callback
// until it is answered 2xx (see smileIDBackoff).
//
// Once the retries have drained it checks that every genuine callback was
// completed by the upstream and acknowledged to Smile ID, that no forged,
// stale, tampered or replayed request reached the upstream, that Redis
// remembers every delivered callback as handled (else its exact replay
// would be handled again once the claim lapsed), and that a callback was
// handled twice only in the window the design allows: the
// killed instance had forwarded it before the kill, the upstream completed
// it, and the answer (and the claim's Finish) died with the process, so
// the retry was forwarded again by the survivor, a lease or more after the
// killed attempt began (the lease trade-off of SECURITY.md). It reports
// how many were.
func TestLoadFaults(t *testing.T) {
	if !*runFaults {
		t.Skip("the fault test runs with -load-faults")
	}
	redis := startFaultRedis(t) // first: without redis-server the test skips before building
	bin := buildSmileguard(t)
	up := newFaultUpstream()
	upClosed := false
	defer func() {
		if !upClosed {
			up.close()
		}
	}()
	keyFile := writeFaultKeys(t, faultKey)
	shared := []string{"--keys-file", keyFile, "--allow-production", "127.0.0.1", "--rate", "0",
		"--redis-url", "redis://" + redis.addr + "/0", "--redis-prefix", "faults:",
		"--redis-timeout", faultRedisTimeout.String(), "--lease", faultLease.String(), "--log-level", "error"}
	// Each instance forwards to a path of its own on the one upstream,
	// which so tells who forwarded what.
	a := startFaultProxy(t, bin, "a", append([]string{"--upstream", up.server.URL + "/a"}, shared...)...)
	b := startFaultProxy(t, bin, "b", append([]string{"--upstream", up.server.URL + "/b"}, shared...)...)

	start := time.Now()
	run := newFaultRun(a, b, start)
	abort := make(chan struct{})
	struck := make(chan faultTimes, 1)
	go func() { struck <- strike(start, a, redis, run, abort) }()
	var times faultTimes
	timesRead := false
	defer func() {
		close(abort)
		if !timesRead {
			<-struck // no signal is sent once the test has ended
		}
	}()

	until := start.Add(faultDuration)
	sent := make([]*faultClient, faultClients)
	var wg sync.WaitGroup
	for id := range sent {
		sent[id] = &faultClient{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			run.clientLoop(id, until, sent[id])
		}()
	}
	wg.Wait()
	trafficTime := time.Since(start)
	times, timesRead = <-struck, true
	require.NoError(t, times.err, "the faults")
	require.True(t, waitGroupWithin(&run.retries, faultDrain), "the retries did not drain within %v", faultDrain)
	drainTime := time.Since(start)
	run.client.CloseIdleConnections()

	exitCode, err := b.stop(10 * time.Second)
	require.NoError(t, err, "instance b after SIGTERM")
	completions := up.close()
	upClosed = true

	// What Redis remembers of each genuine callback, now that nothing
	// writes to it.
	var jobs, keys []string
	for _, c := range sent {
		for _, cb := range c.genuine {
			jobs, keys = append(jobs, cb.job), append(keys, replayKey(cb.timestamp))
		}
	}
	found, err := replayStates(redis.addr, keys)
	require.NoError(t, err, "reading the replay store")
	states := make(map[string]byte, len(jobs))
	for i, job := range jobs {
		states[job] = found[i]
	}

	v := judge(sent, completions, times, states)
	t.Log("\n" + v.summary(trafficTime, drainTime, times, a.errorRecords(), b.errorRecords()))

	// Nothing genuine was lost: each callback was completed by the
	// upstream and acknowledged to Smile ID within its attempts.
	assert.NotZero(t, v.genuine, "no genuine callback was sent")
	assert.Empty(t, firstFew(v.missing), "genuine callbacks the upstream never completed")
	assert.Empty(t, firstFew(v.undelivered), "genuine callbacks never answered 2xx")
	// Nothing else got through, and nothing will: Redis remembers every
	// delivered callback as handled, so that its exact replay is only
	// acknowledged.
	assert.Empty(t, firstFew(v.intruders), "completions that no genuine attempt explains")
	assert.Empty(t, firstFew(v.unmarkedJobs), "delivered callbacks Redis does not remember as handled")
	assert.Zero(t, v.unsigned, "completions without the proxy's Smileguard-Key-Id")
	// A second handling only in the window the design allows.
	assert.Empty(t, firstFew(v.unexplained), "genuine callbacks handled more than once outside the killed instance's window")
	// Every answer is one the design gives.
	assert.Empty(t, firstFew(v.unexpected), "answers the design does not give")
	assert.NotZero(t, v.cut.total, "no attempt was in flight at instance a when it was killed")
	assert.NotZero(t, v.stalled, "no attempt met Redis stopped")

	assert.Zero(t, exitCode, "instance b's exit code after SIGTERM")
	for msg, n := range b.errorRecords() {
		assert.NotContains(t, msg, "outlived its claim's lease", "instance b logged it %d times", n)
		assert.NotContains(t, msg, "upstream failed", "instance b logged it %d times", n)
	}
}

// faultTimes are when the faults struck, on this process's clock.
type faultTimes struct {
	killed, stopped, resumed time.Time
	err                      error
}

// strike kills instance a at faultKillAt (and sends every later attempt to
// b), and stops Redis at faultStallAt for faultStall, unless abort is
// closed first.
func strike(start time.Time, a *faultProxy, redis *faultRedis, run *faultRun, abort <-chan struct{}) faultTimes {
	var ft faultTimes
	sleepUntil := func(at time.Time) bool {
		select {
		case <-time.After(time.Until(at)):
			return true
		case <-abort:
			return false
		}
	}
	if !sleepUntil(start.Add(faultKillAt)) {
		return ft
	}
	ft.killed = time.Now()
	if ft.err = a.cmd.Process.Signal(syscall.SIGKILL); ft.err != nil {
		return ft
	}
	run.killed.Store(true) // the load balancer sees it go
	a.kill()               // waits for it to exit
	if !sleepUntil(start.Add(faultStallAt)) {
		return ft
	}
	ft.stopped = time.Now()
	if ft.err = redis.signal(syscall.SIGSTOP); ft.err != nil {
		return ft
	}
	select {
	case <-time.After(faultStall):
	case <-abort:
	}
	ft.err = redis.signal(syscall.SIGCONT)
	ft.resumed = time.Now()
	return ft
}

// waitGroupWithin waits for wg at most d, and reports whether it ended.
func waitGroupWithin(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}
