package redisstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smileguard/smileguard/middleware"
)

// latencies times each operation of a benchmark and reports ops/s and the
// 99th percentile beside ns/op.
type latencies struct {
	mu  sync.Mutex
	all []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.all = append(l.all, d...)
	l.mu.Unlock()
}

func (l *latencies) report(b *testing.B) {
	b.StopTimer()
	if len(l.all) == 0 {
		return
	}
	slices.Sort(l.all)
	b.ReportMetric(float64(l.all[len(l.all)*99/100])/1e3, "p99-µs")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

// BenchmarkVerify serves one new, valid callback per operation through the
// callback verifier: without it (the baseline), with the in-memory replay
// store and with the Redis store on loopback.
func BenchmarkVerify(b *testing.B) {
	srv := startRedis(b)
	rounds := 0
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {})
	for _, bc := range []struct {
		name    string
		handler func(b *testing.B) http.Handler
	}{
		{"without middleware", func(*testing.B) http.Handler { return ok }},
		{"memory store", func(b *testing.B) http.Handler {
			store, err := middleware.NewMemoryReplayStore(b.N + 1)
			if err != nil {
				b.Fatal(err)
			}
			return verifier(b, store).Handler(ok)
		}},
		{"redis store", func(b *testing.B) http.Handler {
			// A prefix a round: the rounds send the same callbacks, which
			// a store that saw them would answer as retries.
			rounds++
			store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "bench-" + strconv.Itoa(rounds) + ":"})
			if err != nil {
				b.Fatal(err)
			}
			return verifier(b, store).Handler(ok)
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			h := bc.handler(b)
			bodies := callbacks(b, b.N)
			lat := make([]time.Duration, b.N)
			var l latencies
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest(http.MethodPost, "/smileid/callback", bytes.NewReader(bodies[i]))
				r.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				start := time.Now()
				h.ServeHTTP(w, r)
				lat[i] = time.Since(start)
				if w.Code != 200 {
					b.Fatalf("callback %d: %d %s", i, w.Code, w.Body)
				}
			}
			l.add(lat)
			l.report(b)
		})
	}
}

// BenchmarkReplayStore claims and finishes one new delivery per operation,
// with a lease and a claim token as the verifier sends them, from 1 and
// from 8 goroutines per core: one round trip each. Renew renews one claim
// per operation. BenchmarkPing is the floor.
func BenchmarkReplayStore(b *testing.B) {
	srv := startRedis(b)
	store, err := NewReplayStore(srv.client(), ReplayConfig{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	var seq atomic.Uint64
	next := func() middleware.Delivery {
		n := seq.Add(1)
		d := middleware.Delivery{BodyHash: sha256.Sum256(nil), Timestamp: []byte("2026-11-21T10:00:00.000Z"),
			Now: time.Now(), TTL: 10 * time.Minute, Lease: 10 * time.Second}
		binary.BigEndian.PutUint64(d.ID[:], n)
		binary.BigEndian.PutUint64(d.Token[8:], n)
		return d
	}
	for _, parallelism := range []int{1, 8} {
		b.Run("Begin+Finish/parallelism="+strconv.Itoa(parallelism), func(b *testing.B) {
			var l latencies
			b.SetParallelism(parallelism)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var lat []time.Duration
				for pb.Next() {
					d := next()
					start := time.Now()
					state, err := store.Begin(ctx, d)
					if err != nil || state != middleware.ReplayNew {
						b.Errorf("Begin: %v %v", state, err)
						return
					}
					if err := store.Finish(ctx, d, true); err != nil {
						b.Error(err)
						return
					}
					lat = append(lat, time.Since(start))
				}
				l.add(lat)
			})
			l.report(b)
		})
	}
	b.Run("Renew", func(b *testing.B) {
		d := next()
		if state, err := store.Begin(ctx, d); err != nil || state != middleware.ReplayNew {
			b.Fatal(state, err)
		}
		lat := make([]time.Duration, b.N)
		var l latencies
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d.Now = time.Now()
			start := time.Now()
			if err := store.Renew(ctx, d); err != nil {
				b.Fatal(err)
			}
			lat[i] = time.Since(start)
		}
		l.add(lat)
		l.report(b)
	})
}

// BenchmarkLimiterTake takes a token for one of 100 clients per operation.
func BenchmarkLimiterTake(b *testing.B) {
	srv := startRedis(b)
	limiter, err := NewLimiter(srv.client(), LimiterConfig{Rate: 1e6, Burst: 1})
	if err != nil {
		b.Fatal(err)
	}
	memory, err := middleware.NewRateLimiter(middleware.RateLimitConfig{Rate: 1e6, Burst: 1})
	if err != nil {
		b.Fatal(err)
	}
	clients := make([]netip.Addr, 100)
	for i := range clients {
		clients[i] = netip.AddrFrom4([4]byte{52, 213, 46, byte(i)})
	}
	for _, bc := range []struct {
		name string
		l    middleware.ClientLimiter
	}{{"memory", memory}, {"redis", limiter}} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := context.Background()
			lat := make([]time.Duration, b.N)
			var l latencies
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				if _, _, err := bc.l.Take(ctx, clients[i%len(clients)]); err != nil {
					b.Fatal(err)
				}
				lat[i] = time.Since(start)
			}
			l.add(lat)
			l.report(b)
		})
	}
}

// verifier is a callback verifier at testNow with store.
func verifier(b *testing.B, store middleware.ReplayStore) *middleware.CallbackVerifier {
	v, err := middleware.NewCallbackVerifier(middleware.CallbackConfig{
		Keyring: keyring(b), Now: func() time.Time { return testNow }, Replay: store,
	})
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// callbacks signs n callbacks with distinct timestamps, a millisecond apart,
// all within the tolerance of testNow.
func callbacks(b *testing.B, n int) [][]byte {
	bodies := make([][]byte, n)
	for i := range bodies {
		skew := -4*time.Minute + time.Duration(i%400_000)*time.Millisecond
		bodies[i] = signedBody(b, skew)
	}
	return bodies
}

// BenchmarkPing measures one round trip to the loopback Redis the other
// benchmarks use: the floor under every store and limiter operation.
func BenchmarkPing(b *testing.B) {
	srv := startRedis(b)
	client := srv.client()
	ctx := context.Background()
	lat := make([]time.Duration, b.N)
	var l latencies
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := client.Ping(ctx).Err(); err != nil {
			b.Fatal(err)
		}
		lat[i] = time.Since(start)
	}
	l.add(lat)
	l.report(b)
}
