//go:build unix

package load

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
)

// The processes of TestLoadFaults: the smileguard command built from the
// workspace, a redis-server of the test's own, and two proxies sharing it.
// Each is started here, signalled by its pid, and killed by its pid when
// the test ends if it still runs.

// smileguardPackage is the command's import path: another module of the
// workspace (go.work), which go build finds from this directory.
const smileguardPackage = "github.com/smileguard/smileguard/cmd/smileguard"

// buildSmileguard builds the smileguard command into a temporary directory
// and returns its path.
func buildSmileguard(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "smileguard")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, smileguardPackage).CombinedOutput()
	require.NoError(t, err, "go build %s (from the workspace: GOWORK must not be off):\n%s", smileguardPackage, out)
	return bin
}

// faultRedis is a redis-server on a free loopback port, nothing persisted.
type faultRedis struct {
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
}

// startFaultRedis starts a redis-server for t and kills it, by its pid,
// when t ends. Without the binary the test is skipped, unless
// SMILEGUARD_REQUIRE_REDIS is set (as CI sets it), which fails it.
func startFaultRedis(t *testing.T) *faultRedis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("SMILEGUARD_REQUIRE_REDIS") != "" {
			t.Fatalf("redis-server not found and SMILEGUARD_REQUIRE_REDIS is set: %v", err)
		}
		t.Skip("redis-server not found (Debian: apt-get install -y redis-server); set SMILEGUARD_REQUIRE_REDIS=1 to fail instead")
	}
	// Another process may take the free port before the server binds it:
	// try a few.
	for range 5 {
		port := faultFreePort(t)
		cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--dir", t.TempDir(), "--protected-mode", "yes")
		require.NoError(t, cmd.Start())
		r := &faultRedis{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(r.exited) }()
		if r.answers(5 * time.Second) {
			t.Cleanup(r.kill)
			return r
		}
		r.kill()
	}
	t.Fatal("redis-server did not start")
	return nil
}

// answers waits up to wait for the server to answer PING with PONG.
func (r *faultRedis) answers(wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		select {
		case <-r.exited:
			return false
		default:
		}
		if conn, err := net.DialTimeout("tcp", r.addr, 100*time.Millisecond); err == nil {
			_ = conn.SetDeadline(time.Now().Add(time.Second))
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

// signal sends sig to the server, by its pid. os.Process refuses to
// signal a process it has waited for, whose pid may belong to another by
// now.
func (r *faultRedis) signal(sig syscall.Signal) error { return r.cmd.Process.Signal(sig) }

// kill kills the server, by its pid (SIGKILL ends a stopped process too),
// and waits for it, at most five seconds.
func (r *faultRedis) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-r.exited:
	case <-time.After(5 * time.Second):
	}
}

func faultFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// writeFaultKeys writes keys as a key file only its owner can read, as the
// proxy requires, and returns its path.
func writeFaultKeys(t *testing.T, keys ...signer.Key) string {
	t.Helper()
	type entry struct {
		ID          string `json:"id"`
		PartnerID   string `json:"partner_id"`
		Environment string `json:"environment"`
		APIKey      string `json:"api_key"`
	}
	var doc struct {
		Keys []entry `json:"keys"`
	}
	for _, k := range keys {
		doc.Keys = append(doc.Keys, entry{k.ID, k.PartnerID, string(k.Environment), k.APIKey})
	}
	data, err := json.Marshal(doc)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "keys.json")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	require.NoError(t, os.Chmod(path, 0o600)) // whatever the umask
	return path
}

// socketAddr matches the addresses in an error, which differ from one
// connection to the next: records that differ only by them are counted
// together.
var socketAddr = regexp.MustCompile(`\d+\.\d+\.\d+\.\d+:\d+`)

// faultProxy is a running smileguard proxy. Its JSON log is read as it
// comes: the listening line for its address, then a count of the records
// at Error level by message.
type faultProxy struct {
	name   string
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}

	mu       sync.Mutex
	errors   map[string]int // records at Error level, by message and error
	stderr   strings.Builder
	exitCode int
}

// startFaultProxy runs bin proxy with args on a free loopback port, with
// an environment holding no SMILEGUARD_ or SMILEID_ variable, and waits
// until it listens. It is killed, by its pid, when t ends if it still runs.
//
// With -load-faults-logs, its whole log is also written to a file of that
// directory named after it.
func startFaultProxy(t *testing.T, bin, name string, args ...string) *faultProxy {
	t.Helper()
	var logFile io.Writer = io.Discard
	if *faultLogs != "" {
		f, err := os.Create(filepath.Join(*faultLogs, name+".log"))
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		logFile = f
		args = append(args, "--log-level", "info")
	}
	args = append([]string{"proxy", "--listen", "127.0.0.1:0", "--admin-listen", "off"}, args...)
	p := &faultProxy{name: name, cmd: exec.Command(bin, args...), exited: make(chan struct{}), errors: map[string]int{}}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SMILEGUARD_") && !strings.HasPrefix(kv, "SMILEID_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	stdout, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	stderr, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	t.Cleanup(func() { p.kill() })
	listening := make(chan string, 1)
	var read sync.WaitGroup
	read.Add(2)
	go func() { defer read.Done(); p.readLog(io.TeeReader(stdout, logFile), listening) }()
	go func() {
		defer read.Done()
		b, _ := io.ReadAll(stderr)
		p.mu.Lock()
		p.stderr.Write(b)
		p.mu.Unlock()
	}()
	go func() {
		read.Wait() // Wait closes the pipes: read them to the end first
		err := p.cmd.Wait()
		p.mu.Lock()
		p.exitCode = p.cmd.ProcessState.ExitCode()
		if err != nil && p.exitCode == 0 {
			p.exitCode = -1
		}
		p.mu.Unlock()
		close(p.exited)
	}()
	select {
	case p.addr = <-listening:
	case <-p.exited:
		t.Fatalf("proxy %s exited before listening:\n%s", name, p.errorOutput())
	case <-time.After(10 * time.Second):
		t.Fatalf("proxy %s did not listen within 10 s", name)
	}
	return p
}

// readLog reads the proxy's log to its end: the address of the listening
// line goes to listening, the records at Error level are counted.
func (p *faultProxy) readLog(stdout io.Reader, listening chan<- string) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var line struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
			Addr  string `json:"addr"`
			Error string `json:"error"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			line.Level, line.Msg = "ERROR", "(not JSON) "+sc.Text()
		}
		switch {
		case line.Msg == "smileguard: listening":
			listening <- line.Addr
		case line.Level == "ERROR":
			key := line.Msg
			if line.Error != "" {
				key += " (" + socketAddr.ReplaceAllString(line.Error, "ADDR") + ")"
			}
			p.mu.Lock()
			p.errors[key]++
			p.mu.Unlock()
		}
	}
}

// url is the proxy's callback endpoint.
func (p *faultProxy) url() string { return "http://" + p.addr + "/smileid/callback" }

// kill kills the proxy at once (SIGKILL, by its pid), as the OOM killer
// or a deploy past its grace would, and waits for it to go.
func (p *faultProxy) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
}

// stop asks the proxy to shut down gracefully (SIGTERM, by its pid) and
// returns its exit code, or an error if it did not exit within wait.
func (p *faultProxy) stop(wait time.Duration) (int, error) {
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return 0, err
	}
	select {
	case <-p.exited:
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.exitCode, nil
	case <-time.After(wait):
		return 0, errors.New("the proxy did not exit after SIGTERM")
	}
}

// errorRecords returns a copy of the count of records at Error level by
// message.
func (p *faultProxy) errorRecords() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.errors))
	for msg, n := range p.errors {
		out[msg] = n
	}
	return out
}

func (p *faultProxy) errorOutput() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}
