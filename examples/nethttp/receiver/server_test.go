package receiver

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/examples/internal/callbacktest"
	"github.com/smileguard/smileguard/internal/syncbuf"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// testConfig is a production-only receiver behind a proxy on loopback.
func testConfig() Config {
	return Config{
		Keys:            []signer.Key{{ID: "production", PartnerID: "085", APIKey: testProductionKey, Environment: signer.Production}},
		TrustedProxies:  []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		ForwardedHeader: "X-Forwarded-For",
		Listen:          "127.0.0.1:0",
		RateLimit:       middleware.RateLimitConfig{Rate: DefaultRate, Burst: DefaultBurst},
	}
}

// startReceiver serves NewHandler(cfg) on a loopback listener until the
// test ends and returns its base URL and its log.
func startReceiver(t *testing.T, cfg Config) (string, *syncbuf.Buffer) {
	t.Helper()
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, nil))
	handler, err := NewHandler(cfg, logger)
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, NewServer(handler, logger), ln) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return "http://" + ln.Addr().String(), logs
}

// post sends body to the receiver at base as if through the trusted proxy
// for client.
func post(t *testing.T, base, client string, body []byte) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+CallbackPath, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", client)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	text, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(text)
}

// signed signs body with key, each call at its own millisecond.
func signed(t *testing.T, key signer.Key, body string) []byte {
	return callbacktest.Sign(t, key, body)
}

const smileIDProductionIP = "52.213.46.74"

func TestReceiverEndToEnd(t *testing.T) {
	cfg := testConfig()
	base, logs := startReceiver(t, cfg)
	callback := signed(t, cfg.Keys[0],
		`{"SmileJobID":"0000004711","ResultCode":"1012","ResultText":"Valid ID","PartnerParams":{"job_id":"job-42","user_id":"user-7"},"FullName":"Ada Lovelace"}`)

	status, _ := post(t, base, smileIDProductionIP, callback)
	assert.Equal(t, http.StatusOK, status, "a genuine callback is handled")
	assert.Equal(t, 1, strings.Count(logs.String(), `"msg":"receiver: callback received"`))
	assert.Contains(t, logs.String(), `"job_id":"job-42"`)
	assert.Contains(t, logs.String(), `"result_code":"1012"`)
	assert.Contains(t, logs.String(), `"key_id":"production"`)

	status, _ = post(t, base, smileIDProductionIP, callback)
	assert.Equal(t, http.StatusOK, status, "Smile ID's retry is acknowledged")
	assert.Equal(t, 1, strings.Count(logs.String(), `"msg":"receiver: callback received"`), "and not handled twice")

	tests := []struct {
		name   string
		client string
		body   []byte
		want   int
	}{
		{"an address that is not Smile ID's", "203.0.113.9", signed(t, cfg.Keys[0], `{"n":1}`), http.StatusForbidden},
		{"a sandbox address when only production is configured", "35.166.227.53", signed(t, cfg.Keys[0], `{"n":2}`), http.StatusForbidden},
		{"a signature made with another key", smileIDProductionIP,
			signed(t, signer.Key{PartnerID: "085", APIKey: "guessed", Environment: signer.Production}, `{"n":3}`), http.StatusUnauthorized},
		{"the handled pair with another body", smileIDProductionIP,
			bytes.Replace(callback, []byte(`"1012"`), []byte(`"1013"`), 1), http.StatusUnauthorized},
		{"a body the handler cannot read", smileIDProductionIP, signed(t, cfg.Keys[0], `{"ResultCode":1012}`), http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, _ := post(t, base, tt.client, tt.body)
			assert.Equal(t, tt.want, status)
		})
	}
	assert.Equal(t, 1, strings.Count(logs.String(), `"msg":"receiver: callback received"`))
	var sent struct{ Signature string }
	require.NoError(t, json.Unmarshal(callback, &sent))
	for _, secret := range []string{testProductionKey, sent.Signature, "Ada Lovelace"} {
		assert.NotContains(t, logs.String(), secret, "no key, signature or personal data in the log")
	}
}

func TestReceiverRoutes(t *testing.T) {
	handler, err := NewHandler(testConfig(), discardLogger())
	require.NoError(t, err)
	tests := []struct {
		name, method, path, remote string
		want                       int
	}{
		{"health check", http.MethodGet, "/healthz", "10.9.8.7:5000", http.StatusOK},
		{"callback path with another method", http.MethodGet, CallbackPath, "10.9.8.7:5000", http.StatusMethodNotAllowed},
		{"unknown path", http.MethodPost, "/smileid", "10.9.8.7:5000", http.StatusNotFound},
		{"spoofed X-Forwarded-For from an untrusted peer", http.MethodPost, CallbackPath, "203.0.113.9:5000", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(`{}`))
			r.RemoteAddr = tt.remote
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("X-Forwarded-For", smileIDProductionIP)
			w := httptest.NewRecorder()
			handler.ServeHTTP(w, r)
			assert.Equal(t, tt.want, w.Code)
		})
	}
}

func TestNewHandlerRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"no keys", func(c *Config) { c.Keys = nil }},
		{"header without proxies", func(c *Config) { c.TrustedProxies = nil }},
		{"no rate", func(c *Config) { c.RateLimit.Rate = 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.mutate(&cfg)
			h, err := NewHandler(cfg, discardLogger())
			assert.Error(t, err)
			assert.Nil(t, h)
		})
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, NewServer(handler, discardLogger()), ln) }()

	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, string(body), err}
	}()
	<-entered
	cancel()
	require.Eventually(t, func() bool {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
		}
		return err != nil
	}, 10*time.Second, 5*time.Millisecond, "shutting down, the server stops accepting")
	select {
	case err := <-served:
		t.Fatalf("Serve returned (%v) while a request was in flight", err)
	default:
	}

	close(release)
	a := <-answered
	require.NoError(t, a.err)
	assert.Equal(t, http.StatusOK, a.status, "the request in flight completes")
	assert.Equal(t, "finished", a.body)
	assert.NoError(t, <-served, "a graceful shutdown is no error")
}

func TestServeReturnsServerErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ln.Close()
	err = Serve(context.Background(), NewServer(http.NotFoundHandler(), discardLogger()), ln)
	assert.Error(t, err)
}

func TestListenAndServe(t *testing.T) {
	t.Run("address in use", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		assert.Error(t, ListenAndServe(context.Background(), ln.Addr().String(), http.NotFoundHandler(), discardLogger()))
	})
	t.Run("stops when the context is done", func(t *testing.T) {
		logs := &syncbuf.Buffer{}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.NoError(t, ListenAndServe(ctx, "127.0.0.1:0", http.NotFoundHandler(), slog.New(slog.NewJSONHandler(logs, nil))))
		assert.Contains(t, logs.String(), `"msg":"receiver: listening","addr":"127.0.0.1:`)
		assert.Contains(t, logs.String(), `"msg":"receiver: stopped"`)
	})
}

func TestConfigLogsNoKey(t *testing.T) {
	cfg, err := FromEnv(env(with(minimal, "SMILEID_KEYS", "production,sandbox",
		"SMILEID_SANDBOX_PARTNER_ID", "085", "SMILEID_SANDBOX_API_KEY", testSandboxKey, "SMILEID_SANDBOX_ENVIRONMENT", "sandbox",
		EnvTrustedProxies, "10.0.0.0/8")))
	require.NoError(t, err)
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("starting", "config", cfg)
	assert.Contains(t, logs.String(),
		`"config":{"keys":["production (production)","sandbox (sandbox)"],"allowed":{"production":["34.240.137.52/32","44.230.128.108/32","52.36.32.43/32","52.213.46.74/32"],"sandbox":["35.166.227.53/32","44.246.19.66/32","54.246.37.255/32","99.81.237.141/32"]},"trusted_proxies":["10.0.0.0/8"],`+
			`"forwarded_header":"X-Forwarded-For","listen":":8080","rate":20,"burst":40}`)
	assert.NotContains(t, logs.String(), testProductionKey)
	assert.NotContains(t, logs.String(), testSandboxKey)
}
