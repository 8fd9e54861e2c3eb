package allowlist

import (
	"math/rand"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// benchConfig is the setup of the issue: a load balancer in 10.0.0.0/8 in
// front of the server, both Smile ID sets allowed.
func benchConfig(header string) Config {
	return Config{
		Allow:          []Set{SmileIDProduction, SmileIDSandbox},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		Header:         header,
	}
}

func benchmarkCheck(b *testing.B, cfg Config, r *http.Request, wantErr error) {
	a, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := a.Check(r); err != wantErr {
		b.Fatalf("Check = %v, want %v", err, wantErr)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		a.Check(r)
	}
}

func BenchmarkCheck(b *testing.B) {
	b.Run("direct peer", func(b *testing.B) {
		cfg := Config{Allow: []Set{SmileIDProduction, SmileIDSandbox}}
		benchmarkCheck(b, cfg, newRequest("52.213.46.74:43122"), nil)
	})
	b.Run("2 trusted proxies X-Forwarded-For", func(b *testing.B) {
		r := newRequest("10.0.0.7:43122", "X-Forwarded-For", "6.6.6.6, 52.213.46.74, 10.1.2.3")
		benchmarkCheck(b, benchConfig("X-Forwarded-For"), r, nil)
	})
	b.Run("2 trusted proxies Forwarded", func(b *testing.B) {
		r := newRequest("10.0.0.7:43122", "Forwarded", "for=6.6.6.6, for=52.213.46.74, for=10.1.2.3")
		benchmarkCheck(b, benchConfig("Forwarded"), r, nil)
	})
	b.Run("X-Real-IP", func(b *testing.B) {
		r := newRequest("10.0.0.7:43122", "X-Real-IP", "52.213.46.74")
		benchmarkCheck(b, benchConfig("X-Real-IP"), r, nil)
	})
	b.Run("10000 entries X-Forwarded-For", func(b *testing.B) {
		r := newRequest("10.0.0.7:43122", "X-Forwarded-For", strings.Repeat("6.6.6.6, ", 9999)+"52.213.46.74")
		benchmarkCheck(b, benchConfig("X-Forwarded-For"), r, ErrTooManyHops)
	})
	b.Run("10000 entries Forwarded", func(b *testing.B) {
		r := newRequest("10.0.0.7:43122", "Forwarded", strings.Repeat("for=6.6.6.6, ", 9999)+"for=52.213.46.74")
		benchmarkCheck(b, benchConfig("Forwarded"), r, ErrTooManyHops)
	})
	b.Run("1000 allowed prefixes", func(b *testing.B) {
		cfg := benchConfig("X-Forwarded-For")
		cfg.Allow = append(cfg.Allow, manyPrefixes(1000))
		r := newRequest("10.0.0.7:43122", "X-Forwarded-For", "6.6.6.6, 52.213.46.74, 10.1.2.3")
		benchmarkCheck(b, cfg, r, nil)
	})
	b.Run("1000 allowed prefixes IPv6", func(b *testing.B) {
		cfg := benchConfig("X-Forwarded-For")
		cfg.Allow = append(cfg.Allow, manyPrefixes(1000))
		r := newRequest("10.0.0.7:43122", "X-Forwarded-For", "[2001:db8:1::5]:4711, 10.1.2.3")
		benchmarkCheck(b, cfg, r, ErrNotAllowed)
	})
}

// manyPrefixes returns a set of n random prefixes, half IPv4 /16 to /32,
// half IPv6 /32 to /128.
func manyPrefixes(n int) Set {
	rng := rand.New(rand.NewSource(1))
	set := Set{Name: "many"}
	for i := range n {
		var a netip.Addr
		var bits int
		if i%2 == 0 {
			a = netip.AddrFrom4([4]byte{byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256)), byte(rng.Intn(256))})
			bits = 16 + rng.Intn(17)
		} else {
			var b [16]byte
			rng.Read(b[:])
			a = netip.AddrFrom16(b)
			bits = 32 + rng.Intn(97)
		}
		set.Prefixes = append(set.Prefixes, netip.PrefixFrom(a, bits).Masked())
	}
	return set
}

// BenchmarkHandler compares a handler behind the allowlist with the same
// handler called directly (the baseline).
func BenchmarkHandler(b *testing.B) {
	next := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	r := newRequest("10.0.0.7:43122", "X-Forwarded-For", "6.6.6.6, 52.213.46.74, 10.1.2.3")
	w := httptest.NewRecorder()
	b.Run("without allowlist", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			next.ServeHTTP(w, r)
		}
	})
	b.Run("with allowlist", func(b *testing.B) {
		a, err := New(benchConfig("X-Forwarded-For"))
		if err != nil {
			b.Fatal(err)
		}
		h := a.Handler(next)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			h.ServeHTTP(w, r)
		}
	})
}
