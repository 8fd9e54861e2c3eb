package proxy

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

var benchKey = signer.Key{ID: "bench", PartnerID: "1622", APIKey: "bench-api-key", Environment: signer.Production}

// benchUpstream is a trivial app: it reads the body and answers 200.
func benchUpstream(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	b.Cleanup(srv.Close)
	return srv
}

// benchProxy serves the proxy's handler in front of up, logging at level.
func benchProxy(b *testing.B, up *httptest.Server, level slog.Level) *httptest.Server {
	u, _ := url.Parse(up.URL)
	p, err := New(Config{
		Paths:           []string{"/smileid/callback"},
		Upstream:        u,
		UpstreamTimeout: 10 * time.Second,
		InitialKeys:     []signer.Key{benchKey},
		Environments:    []signer.Environment{signer.Production},
		Allowlist: allowlist.Config{Allow: []allowlist.Set{{Name: "loopback", Environment: signer.Production,
			Prefixes: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}},
		ShutdownGrace: time.Second,
		Logger:        slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: level})),
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(p.Handler())
	b.Cleanup(srv.Close)
	return srv
}

// benchSend posts fresh callbacks to url from parallel clients on
// keep-alive connections.
func benchSend(b *testing.B, url string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
	b.Cleanup(client.CloseIdleConnections)
	var stamp atomic.Int64
	stamp.Store(time.Now().Add(-4 * time.Minute).UnixMilli())
	unsigned := callbacks.Body("bench", 2<<10)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body, err := signertest.SignCallbackWithTimestamp(benchKey, unsigned, signer.FormatTimestamp(time.UnixMilli(stamp.Add(1))))
			if err != nil {
				b.Fatal(err)
			}
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
		}
	})
}

// BenchmarkWithout is the baseline: the clients post to the upstream
// directly, signing as much.
func BenchmarkWithout(b *testing.B) {
	benchSend(b, benchUpstream(b).URL+"/smileid/callback")
}

// BenchmarkProxy posts through the proxy's handler (the Guard and the
// ReverseProxy) to the same upstream, logging each forwarded callback as
// the default --log-level info does.
func BenchmarkProxy(b *testing.B) {
	benchSend(b, benchProxy(b, benchUpstream(b), slog.LevelInfo).URL+"/smileid/callback")
}

// BenchmarkProxyQuiet is BenchmarkProxy at --log-level warn: the cost of
// the Info line per callback.
func BenchmarkProxyQuiet(b *testing.B) {
	benchSend(b, benchProxy(b, benchUpstream(b), slog.LevelWarn).URL+"/smileid/callback")
}
