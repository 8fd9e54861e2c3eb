package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAdminEndpoints: /healthz and /readyz answer, and /metrics counts
// what was sent, by outcome and reason.
func TestAdminEndpoints(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, nil, proxyArgs(t, up)...)
	url := p.url("/smileid/callback")

	status, body := p.admin(t, "/healthz")
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ok\n", body)
	status, body = p.admin(t, "/readyz")
	assert.Equal(t, http.StatusOK, status, body)

	for i := range 3 {
		status, _ := post(t, defaultClient, url, signed(t, prodKey, "job-metrics-"+strconv.Itoa(i), fresh()), nil)
		require.Equal(t, http.StatusOK, status)
	}
	retried := signed(t, prodKey, "job-metrics-retried", fresh())
	post(t, defaultClient, url, retried, nil)
	post(t, defaultClient, url, retried, nil)
	for range 2 {
		post(t, defaultClient, url, signed(t, stranger, "job-metrics-forged", fresh()), nil)
	}
	post(t, clientFrom("127.0.0.3", 5*time.Second), url, signed(t, prodKey, "job-metrics-spoofed", fresh()), nil)
	up.status.Store(http.StatusInternalServerError)
	post(t, defaultClient, url, signed(t, prodKey, "job-metrics-500", fresh()), nil)

	status, metrics := p.admin(t, "/metrics")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []struct {
		labels string
		count  float64
	}{
		{`outcome="accepted",reason="accepted",environment="production",format="body"`, 4},
		{`outcome="accepted",reason="not_handled"`, 1},
		{`outcome="acknowledged",reason="already_handled"`, 1},
		{`outcome="refused",reason="invalid_signature"`, 2},
		{`outcome="refused",reason="forbidden"`, 1},
	} {
		assert.Equal(t, want.count, sumMetric(metrics, "smileguard_callbacks_total", want.labels), want.labels)
	}
	assert.Equal(t, 6.0, sumMetric(metrics, "smileguard_key_verifications_total", `key_id="prod-2026-11"`),
		"every request that carried the key's signature: 4 + 1 retried + 1 failed upstream")
	assert.Equal(t, 1.0, sumMetric(metrics, "smileguard_proxy_usable_keys", `environment="production"`))
}

// sumMetric adds up the samples of the metric name whose labels include
// every label of labels (in Prometheus's text format, sorted by name).
func sumMetric(text, name, labels string) float64 {
	var sum float64
	line := regexp.MustCompile(`^` + name + `\{([^}]*)\} (\S+)$`)
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		all := true
		for _, l := range strings.Split(labels, ",") {
			if !strings.Contains(","+m[1]+",", ","+l+",") {
				all = false
			}
		}
		if all {
			v, _ := strconv.ParseFloat(m[2], 64)
			sum += v
		}
	}
	return sum
}

// TestSIGHUPReloadsKeys: after the key file changes, SIGHUP puts the new
// keys in force without a restart; a broken file leaves them as they were.
func TestSIGHUPReloadsKeys(t *testing.T) {
	up := newUpstream(t)
	keys := writeKeys(t, "", prodKey)
	p := startProxy(t, nil, "--keys-file", keys, "--allow-production", "127.0.0.1", "--upstream", up.URL)
	url := p.url("/smileid/callback")

	status, _ := post(t, defaultClient, url, signed(t, prodKeyNew, "job-new-early", fresh()), nil)
	require.Equal(t, http.StatusUnauthorized, status, "the new key is not in force yet")

	writeKeys(t, keys, prodKey, prodKeyNew)
	from := p.logLen()
	p.signal(syscall.SIGHUP)
	p.waitLogAfter(from, "smileguard: keys reloaded", 5*time.Second)
	status, answer := post(t, defaultClient, url, signed(t, prodKeyNew, "job-new", fresh()), nil)
	assert.Equal(t, http.StatusOK, status, answer)
	assert.Equal(t, "prod-2027-02", up.last().header.Get("Smileguard-Key-Id"))

	require.NoError(t, os.WriteFile(keys, []byte(`{"keys": [`), 0o600))
	from = p.logLen()
	p.signal(syscall.SIGHUP)
	failed := p.waitLogAfter(from, "smileguard: keys not reloaded; the previous keys stay in force", 5*time.Second)
	assert.Contains(t, failed["error"], keys, "the error names the file")
	status, _ = post(t, defaultClient, url, signed(t, prodKeyNew, "job-after-bad-file", fresh()), nil)
	assert.Equal(t, http.StatusOK, status, "the keys in force before the bad file still are")

	writeKeys(t, keys, sandboxKey)
	from = p.logLen()
	p.signal(syscall.SIGHUP)
	p.waitLogAfter(from, "smileguard: keys not reloaded; the previous keys stay in force", 5*time.Second)
	status, _ = post(t, defaultClient, url, signed(t, prodKey, "job-after-no-prod", fresh()), nil)
	assert.Equal(t, http.StatusOK, status, "a file without a production key is refused while production callbacks are accepted")
}

// TestSIGTERMFinishesInFlight: SIGTERM during a slow upstream call stops
// accepting, lets the call finish, and exits 0.
func TestSIGTERMFinishesInFlight(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, nil, proxyArgs(t, up)...)
	up.delay.Store(int64(time.Second))

	type result struct {
		status int
		err    error
	}
	done := make(chan result, 1)
	go func() {
		status, _, err := tryPost(defaultClient, p.url("/smileid/callback"), signed(t, prodKey, "job-drain", fresh()), nil)
		done <- result{status, err}
	}()
	select {
	case <-up.arrived:
	case <-time.After(5 * time.Second):
		t.Fatal("the callback did not reach the upstream")
	}
	p.signal(syscall.SIGTERM)
	p.waitLog("smileguard: shutting down", 5*time.Second)

	// New connections are refused while the call runs.
	require.Eventually(t, func() bool {
		conn, err := net.DialTimeout("tcp", p.addr, 100*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, 2*time.Second, 20*time.Millisecond)

	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status, "the in-flight callback finished")
	assert.Equal(t, 0, p.wait(10*time.Second), "exit status")
	p.waitLog("smileguard: stopped", time.Second)
}

// TestSIGTERMGraceRunsOut: a call that outlasts the grace period is cut
// off, and the exit status says so.
func TestSIGTERMGraceRunsOut(t *testing.T) {
	up := newUpstream(t)
	p := startProxy(t, nil, proxyArgs(t, up, "--shutdown-grace", "200ms")...)
	up.delay.Store(int64(time.Second))
	go tryPost(defaultClient, p.url("/smileid/callback"), signed(t, prodKey, "job-cut", fresh()), nil)
	<-up.arrived
	p.signal(syscall.SIGTERM)
	assert.Equal(t, 1, p.wait(5*time.Second))
	assert.Contains(t, p.log(), "did not finish within the grace period")
}

// TestStartupErrorsNameTheFlag: a bad configuration stops the start with
// exit status 2 and a message that names the flag, or the variable that
// set it.
func TestStartupErrorsNameTheFlag(t *testing.T) {
	keys := writeKeys(t, "", prodKey)
	open := filepath.Join(t.TempDir(), "open.json")
	data, err := os.ReadFile(keys)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(open, data, 0o644))
	require.NoError(t, os.Chmod(open, 0o644))
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	require.NoError(t, os.WriteFile(garbage, []byte("not a certificate"), 0o600))

	for _, tc := range []struct {
		name string
		args []string
		env  []string
		want []string
	}{
		{"no upstream", []string{"--keys-file", keys}, nil, []string{"--upstream: required"}},
		{"no keys", []string{"--upstream", "http://127.0.0.1:1"}, nil, []string{"no keys: give --keys-file"}},
		{"key file open to others", []string{"--keys-file", open, "--upstream", "http://127.0.0.1:1"}, nil,
			[]string{"--keys-file: ", "chmod 600"}},
		{"several problems at once", []string{"--keys-file", keys, "--upstream", "ftp://x", "--tolerance", "2h", "--lease", "0s"}, nil,
			[]string{"--upstream: the scheme must be http or https", "--tolerance 2h0m0s: over the maximum", "--lease 0s: must be positive"}},
		{"from the environment", []string{"--keys-file", keys}, []string{"SMILEGUARD_UPSTREAM=http://127.0.0.1:1", "SMILEGUARD_RATE=fast"},
			[]string{"SMILEGUARD_RATE (--rate): "}},
		{"address set for an environment without keys", []string{"--keys-file", keys, "--upstream", "http://127.0.0.1:1", "--allow-sandbox", "127.0.0.1"}, nil,
			[]string{"--allow-sandbox: sandbox callbacks are not accepted"}},
		{"bad address", []string{"--keys-file", keys, "--upstream", "http://127.0.0.1:1", "--allow-production", "10.0.0.1/8"}, nil,
			[]string{"--allow-production: ", "host bits set"}},
		{"TLS half configured", []string{"--keys-file", keys, "--upstream", "http://127.0.0.1:1", "--tls-cert", "cert.pem"}, nil,
			[]string{"--tls-cert and --tls-key come together"}},
		{"TLS files that are not PEM", []string{"--keys-file", keys, "--upstream", "http://127.0.0.1:1", "--tls-cert", garbage, "--tls-key", garbage}, nil,
			[]string{"--tls-cert, --tls-key: "}},
		{"redis URL with a password", []string{"--keys-file", keys, "--upstream", "http://127.0.0.1:1", "--redis-url", "redis://:hunter2@[::1"}, nil,
			[]string{"--redis-url: not a URL"}},
		{"flag beats variable", []string{"--keys-file", keys, "--upstream", "http://127.0.0.1:1", "--tolerance", "3h"},
			[]string{"SMILEGUARD_TOLERANCE=1m"}, []string{"--tolerance 3h0m0s: over the maximum"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary, append([]string{"proxy", "--listen", "127.0.0.1:0", "--admin-listen", "off"}, tc.args...)...)
			cmd.Env = cleanEnv(tc.env...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "%s", out)
			assert.Equal(t, 2, exit.ExitCode(), "%s", out)
			for _, w := range tc.want {
				assert.Contains(t, string(out), w)
			}
			assert.NotContains(t, string(out), "hunter2")
			assert.NotContains(t, string(out), prodKey.APIKey)
		})
	}
}

// TestTLS: with --tls-cert and --tls-key the callback listener speaks
// HTTPS.
func TestTLS(t *testing.T) {
	up := newUpstream(t)
	certFile, keyFile, pool := selfSigned(t)
	p := startProxy(t, nil, proxyArgs(t, up, "--tls-cert", certFile, "--tls-key", keyFile)...)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	status, answer := post(t, client, "https://"+p.addr+"/smileid/callback", signed(t, prodKey, "job-tls", fresh()), nil)
	assert.Equal(t, http.StatusOK, status, answer)
	assert.Equal(t, 1, up.count())
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their files and a pool that trusts it.
func selfSigned(t testing.TB) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "smileguard test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return certFile, keyFile, pool
}
