package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// startRedis starts a redis-server of the test's own on a free loopback
// port, with nothing persisted, and stops it by its pid when the test ends.
// Without the binary the test is skipped, unless SMILEGUARD_REQUIRE_REDIS
// is set, which fails it.
func startRedis(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("SMILEGUARD_REQUIRE_REDIS") != "" {
			t.Fatalf("redis-server not found and SMILEGUARD_REQUIRE_REDIS is set: %v", err)
		}
		t.Skip("redis-server not found (Debian: apt-get install -y redis-server); set SMILEGUARD_REQUIRE_REDIS=1 to fail instead")
	}
	for attempt := 0; attempt < 5; attempt++ {
		port := freePort(t)
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", t.TempDir(), "--protected-mode", "yes")
		require.NoError(t, cmd.Start())
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() {
			_ = syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
			}
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if redisAnswers(addr, exited, 5*time.Second) {
			t.Cleanup(stop)
			return addr
		}
		stop() // another process took the port first: try another
	}
	t.Fatal("redis-server did not start")
	return ""
}

// redisAnswers waits until a PING at addr is answered with PONG.
func redisAnswers(addr string, exited <-chan struct{}, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			conn.SetDeadline(time.Now().Add(time.Second))
			fmt.Fprint(conn, "PING\r\n")
			line, _ := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if strings.HasPrefix(line, "+PONG") {
				return true
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestRedisSharedByTwoProxies: two proxy processes sharing one Redis
// handle a delivery once, whichever of them each attempt reaches: a retry
// sent to the other replica is acknowledged, a released one is forwarded
// by the other, and of two racing attempts only one reaches the upstream.
func TestRedisSharedByTwoProxies(t *testing.T) {
	addr := startRedis(t)
	up := newUpstream(t)
	keys := writeKeys(t, "", prodKey)
	args := []string{"--keys-file", keys, "--allow-production", "127.0.0.1", "--upstream", up.URL,
		"--redis-url", "redis://" + addr + "/0", "--redis-prefix", "e2e:"}
	a := startProxy(t, nil, args...)
	b := startProxy(t, nil, args...)

	status, body := a.admin(t, "/readyz")
	require.Equal(t, http.StatusOK, status, body)

	t.Run("a retry to the other replica is acknowledged", func(t *testing.T) {
		cb := signed(t, prodKey, "job-shared", fresh())
		before := up.count()
		status, _ := post(t, defaultClient, a.url("/smileid/callback"), cb, nil)
		require.Equal(t, http.StatusOK, status)
		status, answer := post(t, defaultClient, b.url("/smileid/callback"), cb, nil)
		assert.Equal(t, http.StatusOK, status)
		assert.Contains(t, answer, "already handled")
		assert.Equal(t, before+1, up.count(), "handled once")
	})

	t.Run("a delivery the upstream failed is forwarded by the other replica", func(t *testing.T) {
		cb := signed(t, prodKey, "job-shared-500", fresh())
		before := up.count()
		up.status.Store(http.StatusInternalServerError)
		status, _ := post(t, defaultClient, a.url("/smileid/callback"), cb, nil)
		require.Equal(t, http.StatusInternalServerError, status)
		up.status.Store(0)
		status, _ = postSettled(t, b.url("/smileid/callback"), cb)
		assert.Equal(t, http.StatusOK, status)
		assert.Equal(t, before+2, up.count())
	})

	t.Run("racing attempts reach the upstream once", func(t *testing.T) {
		cb := signed(t, prodKey, "job-shared-race", fresh())
		before := up.count()
		up.delay.Store(int64(300 * time.Millisecond))
		defer up.delay.Store(0)
		var wg sync.WaitGroup
		statuses := make([]int, 2)
		for i, p := range []*proc{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				statuses[i], _, _ = tryPost(defaultClient, p.url("/smileid/callback"), cb, nil)
			}()
		}
		wg.Wait()
		assert.ElementsMatch(t, []int{http.StatusOK, http.StatusConflict}, statuses)
		assert.Equal(t, before+1, up.count())
	})

	t.Run("the rate limit is shared", func(t *testing.T) {
		c := startProxy(t, nil, append(args, "--rate", "0.001", "--burst", "2", "--redis-prefix", "e2e-rate:")...)
		d := startProxy(t, nil, append(args, "--rate", "0.001", "--burst", "2", "--redis-prefix", "e2e-rate:")...)
		var got []int
		for i, p := range []*proc{c, d, c} {
			status, _ := post(t, defaultClient, p.url("/smileid/callback"), signed(t, prodKey, "job-rate-"+strconv.Itoa(i), fresh()), nil)
			got = append(got, status)
		}
		assert.Equal(t, []int{http.StatusOK, http.StatusOK, http.StatusTooManyRequests}, got)
	})
}

// TestRedisDown: with Redis unreachable the proxy is not ready and fails
// closed: a genuine callback is refused with 503, so Smile ID retries it,
// and never reaches the upstream unchecked.
func TestRedisDown(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, nil, proxyArgs(t, up, "--redis-url", "redis://127.0.0.1:"+strconv.Itoa(freePort(t)), "--redis-timeout", "200ms")...)
	status, body := p.admin(t, "/readyz")
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Contains(t, body, "redis unreachable")
	status, _ = post(t, defaultClient, p.url("/smileid/callback"), signed(t, prodKey, "job-no-redis", fresh()), nil)
	assert.Equal(t, http.StatusServiceUnavailable, status)
	assert.Zero(t, up.count())
}
