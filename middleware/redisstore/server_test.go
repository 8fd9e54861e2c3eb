package redisstore

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// redisServer is a redis-server of the test's own, on a free loopback port,
// with nothing persisted.
type redisServer struct {
	t    testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	done chan error // the running server's exit
}

// startRedis starts a redis-server for t and stops it when t ends. Without
// the binary the test is skipped, unless SMILEGUARD_REQUIRE_REDIS is set
// (as CI sets it), which fails it.
func startRedis(t testing.TB) *redisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("SMILEGUARD_REQUIRE_REDIS") != "" {
			t.Fatalf("redis-server not found and SMILEGUARD_REQUIRE_REDIS is set: %v", err)
		}
		t.Skip("redis-server not found (Debian: apt-get install -y redis-server); set SMILEGUARD_REQUIRE_REDIS=1 to fail instead")
	}
	s := &redisServer{t: t, bin: bin, dir: t.TempDir()}
	t.Cleanup(s.stop)
	// Another process may take the free port before the server binds it:
	// try a few.
	for attempt := 0; ; attempt++ {
		s.port = freePort(t)
		err := s.tryStart()
		if err == nil {
			return s
		}
		if attempt == 4 {
			t.Fatalf("redis-server did not start: %v", err)
		}
	}
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr is the server's address.
func (s *redisServer) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// restart starts the server again on the same port, with no data: it kept
// none on disk.
func (s *redisServer) restart() {
	s.t.Helper()
	require.NoError(s.t, s.tryStart())
}

func (s *redisServer) tryStart() error {
	logFile := filepath.Join(s.dir, "redis.log")
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir,
		"--logfile", logFile, "--daemonize", "no")
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if ping(s.Addr()) == nil {
			s.cmd, s.done = cmd, exited
			return nil
		}
		select {
		case err := <-exited:
			log, _ := os.ReadFile(logFile)
			return fmt.Errorf("redis-server exited (%v): %s", err, lastLines(log))
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("redis-server on %s did not answer PING", s.Addr())
		}
	}
}

// stop kills the server at once, as a crash or a lost network would.
func (s *redisServer) stop() {
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	s.cmd = nil
}

// client returns a client of the server, configured as the package asks,
// closed when the test ends.
func (s *redisServer) client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), ContextTimeoutEnabled: true})
	s.t.Cleanup(func() { _ = c.Close() })
	return c
}

// ping sends PING over a fresh connection and expects PONG.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(time.Second))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

func lastLines(b []byte) string {
	const n = 500
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
