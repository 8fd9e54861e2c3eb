package middleware

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/signer"
)

// realisticCallback returns a Smile ID style callback of about size bytes,
// signed by key at testNow: the body the bench module's side-by-side
// benchmarks and load test send.
func realisticCallback(tb testing.TB, key signer.Key, size int) []byte {
	tb.Helper()
	return signedBody(tb, key, 0, string(callbacks.Body("a2a4d6e0-6b3c-4b8e-9a4f-1c2d3e4f5a6b", size)))
}

// nopReplayStore admits every delivery, so that a benchmark measures the
// verification itself; BenchmarkMemoryReplayStore measures the store.
type nopReplayStore struct{}

func (nopReplayStore) Begin(context.Context, Delivery) (ReplayState, error) { return ReplayNew, nil }
func (nopReplayStore) Finish(context.Context, Delivery, bool) error         { return nil }
func (nopReplayStore) Renew(context.Context, Delivery) error                { return nil }

// discardWriter is a ResponseWriter that keeps nothing.
type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

// readAll is the next handler of the benchmarks: it reads the body, as any
// real handler does.
var readAll = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
})

// benchServe sends body through h b.N times from remote, with an
// X-Forwarded-For header if forwardedFor is set, reusing one request.
func benchServe(b *testing.B, h http.Handler, body []byte, remote, forwardedFor string) {
	benchServeHeaders(b, h, body, remote, forwardedFor, nil)
}

// BenchmarkCallback compares the verifier with no middleware at all and
// with the hand-written check Smile ID's documentation leads to: decode the
// body with encoding/json, check the timestamp and the HMAC.
func BenchmarkCallback(b *testing.B) {
	ring := testKeyring(b)
	for _, size := range []int{2 << 10, 1536 << 10} {
		body := realisticCallback(b, productionKey, size)
		name := fmt.Sprintf("%dKB", size>>10)

		b.Run(name+"/baseline-no-middleware", func(b *testing.B) {
			benchServe(b, readAll, body, "52.213.46.74:40000", "")
		})
		b.Run(name+"/handwritten-json-hmac", func(b *testing.B) {
			benchServe(b, handwritten(ring), body, "52.213.46.74:40000", "")
		})
		b.Run(name+"/body-sha256-alone", func(b *testing.B) {
			// What binding the body to its signature costs the verifier.
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_ = sha256.Sum256(body)
			}
		})
		b.Run(name+"/smileguard-verifier", func(b *testing.B) {
			v := newVerifier(b, CallbackConfig{Keyring: ring, Replay: nopReplayStore{}})
			benchServe(b, v.Handler(readAll), body, "52.213.46.74:40000", "")
		})
	}
}

// handwritten is what a careful user writes from Smile ID's documentation.
func handwritten(ring *signer.Keyring) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, DefaultMaxBodyBytes))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		var cb struct {
			Signature string `json:"signature"`
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal(body, &cb); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		at, err := time.Parse(time.RFC3339Nano, cb.Timestamp)
		if err != nil || at.Sub(testNow).Abs() > DefaultTolerance {
			http.Error(w, "stale", http.StatusUnauthorized)
			return
		}
		if !signer.Verify(productionKey.APIKey, productionKey.PartnerID, cb.Timestamp, cb.Signature) {
			http.Error(w, "forged", http.StatusUnauthorized)
			return
		}
		passed := *r // the caller's request is not ours to change
		passed.Body = io.NopCloser(bytes.NewReader(body))
		readAll(w, &passed)
	})
}

// BenchmarkGuard sends a 2 KB callback through the whole guard: allowlist
// (a Smile ID address behind two trusted proxies), rate limit, verifier with
// a no-op replay store (BenchmarkMemoryReplayStore measures the store), in
// both formats: a header-signed callback scans no JSON for members, so it
// is expected at least as fast. The observer cases price the decision hook:
// unset, and a no-op.
func BenchmarkGuard(b *testing.B) {
	body := realisticCallback(b, productionKey, 2<<10)
	v3 := []byte(callbacks.Body("a2a4d6e0-6b3c-4b8e-9a4f-1c2d3e4f5a6b", 2<<10))
	ts := signer.FormatTimestamp(testNow)
	headers := http.Header{
		SignatureHeader: {signer.Sign(productionKey.APIKey, productionKey.PartnerID, ts)},
		TimestampHeader: {ts},
	}
	guard := func(observe Observer) http.Handler {
		g, err := NewGuard(GuardConfig{
			Allowlist: allowlist.Config{
				Allow:          []allowlist.Set{allowlist.SmileIDProduction, allowlist.SmileIDSandbox},
				TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
				Header:         "X-Forwarded-For",
			},
			RateLimit: &RateLimitConfig{Rate: 1e9, Burst: 1e9}, // a real limiter that never refuses
			Callback: CallbackConfig{Keyring: testKeyring(b), Replay: nopReplayStore{},
				Now: func() time.Time { return testNow }},
			Observe: observe,
		})
		if err != nil {
			b.Fatal(err)
		}
		return g.Handler(readAll)
	}
	g := guard(nil)
	for _, bc := range []struct {
		name    string
		h       http.Handler
		body    []byte
		headers http.Header
	}{
		{"baseline-no-middleware", readAll, body, nil},
		{"smileguard-guard", g, body, nil},
		{"smileguard-guard-header-signed", g, v3, headers},
		{"smileguard-guard-observer-noop", guard(func(context.Context, Event) {}), body, nil},
	} {
		b.Run(bc.name, func(b *testing.B) {
			benchServeHeaders(b, bc.h, bc.body, "10.0.0.7:40000", "52.213.46.74, 10.1.2.3", bc.headers)
		})
	}
}

// benchServeHeaders is benchServe with extra request headers.
func benchServeHeaders(b *testing.B, h http.Handler, body []byte, remote, forwardedFor string, headers http.Header) {
	reader := bytes.NewReader(body)
	r, _ := http.NewRequest(http.MethodPost, "http://receiver.example/smileid/callback", io.NopCloser(reader))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Type", "application/json")
	if forwardedFor != "" {
		r.Header.Set("X-Forwarded-For", forwardedFor)
	}
	for k, v := range headers {
		r.Header[k] = v
	}
	r.RemoteAddr = remote
	w := &discardWriter{h: http.Header{}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		reader.Reset(body)
		h.ServeHTTP(w, r)
	}
}

// BenchmarkRateLimiter measures one decision for one of 1,000 clients. The
// fixed-clock case leaves out time.Now, which costs over 100 ns on some
// virtual machines (this project's CI machine among them) and 20 ns on most.
func BenchmarkRateLimiter(b *testing.B) {
	l, err := NewRateLimiter(RateLimitConfig{Rate: 1e9, Burst: 1e9})
	if err != nil {
		b.Fatal(err)
	}
	ips := make([]netip.Addr, 1000)
	for i := range ips {
		ips[i] = netip.AddrFrom4([4]byte{52, 213, byte(i >> 8), byte(i)})
	}
	b.Run("Allow", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			l.Allow(ips[i%len(ips)])
		}
	})
	b.Run("Allow-fixed-clock", func(b *testing.B) {
		fixed, err := NewRateLimiter(RateLimitConfig{Rate: 1e9, Burst: 1e9, Now: func() time.Time { return testNow }})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			fixed.Allow(ips[i%len(ips)])
		}
	})
	b.Run("newcomer-to-a-full-table", func(b *testing.B) {
		// A flood of new addresses against a table full of clients whose
		// buckets have not refilled: each looks through the oldest few for
		// a full bucket, finds none, and takes the overflow bucket.
		flooded, err := NewRateLimiter(RateLimitConfig{Rate: 1, Burst: 5, MaxClients: 1000, Now: func() time.Time { return testNow }})
		if err != nil {
			b.Fatal(err)
		}
		for _, ip := range ips {
			flooded.Allow(ip)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			flooded.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}))
		}
	})
	b.Run("time.Now-alone", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			_ = time.Now()
		}
	})
	b.Run("Handler", func(b *testing.B) {
		h := l.Handler(readAll)
		r, _ := http.NewRequest(http.MethodPost, "http://receiver.example/", http.NoBody)
		r.RemoteAddr = "52.213.46.74:40000"
		w := &discardWriter{h: http.Header{}}
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			h.ServeHTTP(w, r)
		}
	})
}

// BenchmarkObserve prices the decision hook alone, as the guard calls it
// once per request: unset, and set to a no-op. The cost when set is the
// Event's construction, one monotonic clock reading for its Duration and
// the call: on the real clock the start is the reading the verifier takes
// anyway (with an injected clock, the Observer adds that reading too).
func BenchmarkObserve(b *testing.B) {
	r, _ := http.NewRequest(http.MethodPost, "http://receiver.example/smileid/callback", http.NoBody)
	d := &delivery{Context: r.Context(), bodyBytes: 2048,
		callback: Callback{KeyID: "production-2026", Environment: signer.Production, Format: BodySigned},
		decision: allowlist.Decision{Set: "production"}}
	for _, bc := range []struct {
		name    string
		observe Observer
	}{
		{"unset", nil},
		{"no-op", func(context.Context, Event) {}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := &pipeline{observe: bc.observe}
			d.start = time.Now() // read once per request in any case, on the real clock
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p.observed(r, d, Accepted, ReasonAccepted, http.StatusOK)
			}
		})
	}
}
