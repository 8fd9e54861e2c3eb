package middleware

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/allowlist"
)

// fakeClock is a settable clock.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newLimiter(t testing.TB, cfg RateLimitConfig) (*RateLimiter, *fakeClock) {
	clock := &fakeClock{t: testNow}
	cfg.Now = clock.Now
	l, err := NewRateLimiter(cfg)
	require.NoError(t, err)
	return l, clock
}

func TestNewRateLimiterRefuses(t *testing.T) {
	for _, cfg := range []RateLimitConfig{
		{},
		{Rate: -1, Burst: 1},
		{Rate: 1, Burst: 0},
		{Rate: 1, Burst: 1, MaxClients: -1},
	} {
		l, err := NewRateLimiter(cfg)
		require.Error(t, err, "%+v", cfg)
		assert.Nil(t, l)
		assert.Contains(t, err.Error(), "middleware: RateLimitConfig.")
	}
	_, err := NewRateLimiter(RateLimitConfig{Rate: rate.Inf})
	require.NoError(t, err, "an infinite rate needs no burst")
}

func TestRateLimiterAnswers429WithRetryAfter(t *testing.T) {
	tests := []struct {
		name       string
		rate       rate.Limit
		retryAfter string
	}{
		{"a fraction of a second rounds up to 1", 3, "1"},
		{"exactly two seconds", 0.5, "2"},
		{"two and a half seconds round up to 3", 0.4, "3"},
		{"a tiny rate is capped at a day", 1e-12, "86400"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLimiter(t, RateLimitConfig{Rate: tt.rate, Burst: 2})
			next := &recorder{}
			h := l.Handler(next)
			req := func() *http.Request {
				r := httptest.NewRequest(http.MethodPost, "/", nil)
				r.RemoteAddr = "52.213.46.74:40000"
				return r
			}
			assert.Equal(t, 200, serve(h, req()).Code)
			assert.Equal(t, 200, serve(h, req()).Code)
			w := serve(h, req())
			assert.Equal(t, http.StatusTooManyRequests, w.Code)
			assert.Equal(t, tt.retryAfter, w.Header().Get("Retry-After"))
			assert.Equal(t, "middleware: rate limit exceeded\n", w.Body.String())
			assert.Equal(t, 2, next.count())
		})
	}
}

func TestRateLimiterRefills(t *testing.T) {
	l, clock := newLimiter(t, RateLimitConfig{Rate: 1, Burst: 1})
	ip := netip.MustParseAddr("52.213.46.74")
	_, ok := l.Allow(ip)
	require.True(t, ok)
	wait, ok := l.Allow(ip)
	require.False(t, ok)
	assert.Equal(t, time.Second, wait)
	clock.Advance(999 * time.Millisecond)
	_, ok = l.Allow(ip)
	assert.False(t, ok, "not yet")
	clock.Advance(time.Millisecond)
	_, ok = l.Allow(ip)
	assert.True(t, ok)
}

func TestRateLimiterKeysClients(t *testing.T) {
	tests := []struct {
		name    string
		a, b    string
		sameKey bool
	}{
		{"two IPv4 addresses", "52.213.46.74", "52.213.46.75", false},
		{"v4-mapped IPv6 is the IPv4 address", "::ffff:52.213.46.74", "52.213.46.74", true},
		{"one IPv6 /64", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
		{"two IPv6 /64s", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"zones are ignored", "fe80::1%eth0", "fe80::1", true},
		// IPv4 addresses and IPv6 /64s are kept apart even where their
		// bits agree: 52.213.46.74 is 0x34d52e4a.
		{"an IPv6 /64 with an IPv4 address's bits", "::34d5:2e4a:0:0", "52.213.46.74", false},
		{"the zero IPv4 address and ::/64", "0.0.0.0", "::1", false},
		// An invalid address (a peer that did not parse) has a key of its
		// own, shared by every such request.
		{"invalid addresses share one key", "", "", true},
		{"an invalid address and 0.0.0.0", "", "0.0.0.0", false},
		{"an invalid address and ::/64", "", "::", false},
		{"an invalid address and the IPv6 /64 with its bits", "", "0:1::", false},
	}
	addr := func(s string) netip.Addr {
		if s == "" {
			return netip.Addr{}
		}
		return netip.MustParseAddr(s)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, _ := newLimiter(t, RateLimitConfig{Rate: 1, Burst: 1})
			_, ok := l.Allow(addr(tt.a))
			require.True(t, ok)
			_, ok = l.Allow(addr(tt.b))
			assert.Equal(t, !tt.sameKey, ok)
		})
	}
}

func TestRateLimiterUsesTheAllowlistDecision(t *testing.T) {
	l, _ := newLimiter(t, RateLimitConfig{Rate: 1, Burst: 1})
	h := l.Handler(&recorder{})
	viaProxy := func(client string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = "10.0.0.7:1234" // the same proxy for everyone
		return withDecision(r, allowlist.Decision{ClientIP: netip.MustParseAddr(client), Set: "production"})
	}
	assert.Equal(t, 200, serve(h, viaProxy("52.213.46.74")).Code)
	assert.Equal(t, 200, serve(h, viaProxy("34.240.137.52")).Code, "clients behind one proxy have their own buckets")
	assert.Equal(t, 429, serve(h, viaProxy("52.213.46.74")).Code)

	for _, remote := range []string{"", "@", "garbage", "52.213.46.74"} {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = remote
		assert.NotPanics(t, func() { serve(h, r) }, remote)
	}
}

func TestRateLimiterMemoryIsBounded(t *testing.T) {
	const maxClients = 1000
	l, clock := newLimiter(t, RateLimitConfig{Rate: 1, Burst: 5, MaxClients: maxClients})
	for i := 0; i < 1_000_000; i++ {
		ip := netip.AddrFrom4([4]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)})
		l.Allow(ip)
		if i%1000 == 0 {
			clock.Advance(time.Millisecond)
		}
	}
	assert.LessOrEqual(t, l.Len(), maxClients)
	assert.Equal(t, maxClients, l.Len())
}

func TestRateLimiterFloodCannotEvictAnActiveClient(t *testing.T) {
	l, clock := newLimiter(t, RateLimitConfig{Rate: 1, Burst: 3, MaxClients: 100})
	victim := netip.MustParseAddr("52.213.46.74")
	for i := 0; i < 3; i++ {
		_, ok := l.Allow(victim)
		require.True(t, ok)
	}
	_, ok := l.Allow(victim)
	require.False(t, ok, "the victim's bucket is empty")

	// A flood of new addresses fills the table and spills into the
	// overflow bucket, which they share.
	allowed := 0
	for i := 0; i < 10_000; i++ {
		if _, ok := l.Allow(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)})); ok {
			allowed++
		}
	}
	assert.Equal(t, 99+3, allowed, "99 newcomers got a bucket; the rest shared one of burst 3")
	assert.Equal(t, 100, l.Len())
	_, ok = l.Allow(victim)
	assert.False(t, ok, "the victim's empty bucket was not reset by eviction")

	// Once buckets have refilled, they are as good as new and make room.
	clock.Advance(3 * time.Second)
	newcomer := netip.MustParseAddr("34.240.137.52")
	for i := 0; i < 3; i++ {
		_, ok := l.Allow(newcomer)
		assert.True(t, ok, "request %d", i)
	}
	assert.Equal(t, 100, l.Len())
}

func TestRateLimiterEvictsAFullBucketBehindTheOldest(t *testing.T) {
	l, clock := newLimiter(t, RateLimitConfig{Rate: 1, Burst: 2, MaxClients: 3})
	a := netip.MustParseAddr("52.213.46.71")
	b := netip.MustParseAddr("52.213.46.72")
	c := netip.MustParseAddr("52.213.46.73")
	allow := func(ip netip.Addr) bool { _, ok := l.Allow(ip); return ok }
	// a, the least recently seen, spends both tokens; b one; c both.
	for _, ip := range []netip.Addr{a, a, b, c, c} {
		require.True(t, allow(ip))
	}
	clock.Advance(time.Second) // a and c hold one token; b is full

	d := netip.MustParseAddr("34.240.137.51")
	assert.True(t, allow(d), "d takes b's full bucket")
	assert.True(t, allow(d))
	assert.Equal(t, 3, l.Len())
	e := netip.MustParseAddr("34.240.137.52")
	assert.True(t, allow(e), "no bucket is full: e gets the overflow bucket, which d did not touch")
	assert.True(t, allow(a), "a kept its bucket and its one token")
	assert.False(t, allow(a), "a's bucket was not reset")
}

func TestRateLimiterInfiniteRate(t *testing.T) {
	l, _ := newLimiter(t, RateLimitConfig{Rate: rate.Inf})
	for i := 0; i < 100; i++ {
		_, ok := l.Allow(netip.AddrFrom4([4]byte{1, 2, 3, byte(i)}))
		require.True(t, ok)
	}
	assert.Zero(t, l.Len(), "no state is kept")
}
