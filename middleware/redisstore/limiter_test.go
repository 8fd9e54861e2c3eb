package redisstore

import (
	"context"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/internal/syncbuf"
	"github.com/smileguard/smileguard/middleware"
)

func TestLimiterBucket(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	tests := []struct {
		name  string
		cfg   LimiterConfig
		takes int           // takes admitted in a row
		wait  time.Duration // about what the next one is told to wait
	}{
		{"a burst of 3, then one an hour", LimiterConfig{Rate: rate.Every(time.Hour), Burst: 3}, 3, time.Hour},
		{"a burst of 1, then two a second", LimiterConfig{Rate: 2, Burst: 1}, 1, 500 * time.Millisecond},
		{"a burst of 5, then one a day", LimiterConfig{Rate: rate.Every(24 * time.Hour), Burst: 5}, 5, 24 * time.Hour},
		{"a wait over a day is reported as a day", LimiterConfig{Rate: rate.Every(7 * 24 * time.Hour), Burst: 1}, 1, maxWait},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.Prefix = "bucket" + string(rune('a'+i)) + ":"
			l, err := NewLimiter(srv.client(), tt.cfg)
			require.NoError(t, err)
			client := netip.MustParseAddr("52.213.46.74")
			for i := 0; i < tt.takes; i++ {
				ok, _, err := l.Take(ctx, client)
				require.NoError(t, err)
				require.True(t, ok, "take %d", i+1)
			}
			ok, wait, err := l.Take(ctx, client)
			require.NoError(t, err)
			assert.False(t, ok)
			assert.LessOrEqual(t, wait, tt.wait)
			assert.Greater(t, wait, tt.wait-time.Second/4, "the wait is until the next token")
			ok, _, err = l.Take(ctx, netip.MustParseAddr("34.240.137.52"))
			require.NoError(t, err)
			assert.True(t, ok, "another client has its own bucket")
		})
	}
}

func TestLimiterRefills(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	l, err := NewLimiter(srv.client(), LimiterConfig{Rate: 20, Burst: 1})
	require.NoError(t, err)
	client := netip.MustParseAddr("52.213.46.74")
	ok, _, err := l.Take(ctx, client)
	require.NoError(t, err)
	require.True(t, ok)
	ok, wait, err := l.Take(ctx, client)
	require.NoError(t, err)
	require.False(t, ok)
	time.Sleep(wait + 10*time.Millisecond)
	ok, _, err = l.Take(ctx, client)
	require.NoError(t, err)
	assert.True(t, ok, "a token is back after the wait it reported")
}

func TestLimiterCountsClientsAsTheMemoryLimiterDoes(t *testing.T) {
	srv := startRedis(t)
	ctx := context.Background()
	tests := []struct {
		name         string
		first, again string
		shared       bool
	}{
		{"an IPv4-mapped address is its IPv4 address", "52.213.46.74", "::ffff:52.213.46.74", true},
		{"IPv6 addresses of one /64 share a bucket", "2001:db8:1:2::1", "2001:db8:1:2:ffff::9", true},
		{"a zone is dropped", "fe80::1%eth0", "fe80::2", true},
		{"another /64 is another client", "2001:db8:1:2::1", "2001:db8:1:3::1", false},
		{"neighbouring IPv4 addresses are two clients", "52.213.46.74", "52.213.46.75", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := *hourly(1)
			cfg.Prefix = "clients" + string(rune('a'+i)) + ":"
			redisLimiter, err := NewLimiter(srv.client(), cfg)
			require.NoError(t, err)
			memoryLimiter, err := middleware.NewRateLimiter(middleware.RateLimitConfig{Rate: cfg.Rate, Burst: cfg.Burst})
			require.NoError(t, err)
			for _, l := range []middleware.ClientLimiter{redisLimiter, memoryLimiter} {
				ok, _, err := l.Take(ctx, netip.MustParseAddr(tt.first))
				require.NoError(t, err)
				require.True(t, ok)
				ok, _, err = l.Take(ctx, netip.MustParseAddr(tt.again))
				require.NoError(t, err)
				assert.Equal(t, !tt.shared, ok, "%T", l)
			}
		})
	}
}

func TestLimiterKeysExpireOnceTheBucketIsFull(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client()
	ctx := context.Background()
	l, err := NewLimiter(srv.client(), LimiterConfig{Prefix: "app:", Rate: rate.Every(time.Minute), Burst: 10})
	require.NoError(t, err)
	for i := 0; i < 3; i++ {
		_, _, err := l.Take(ctx, netip.MustParseAddr("2001:db8:1:2::1"))
		require.NoError(t, err)
	}
	keys, err := admin.Keys(ctx, "*").Result()
	require.NoError(t, err)
	assert.Equal(t, []string{"app:rate:2001:db8:1:2::"}, keys)
	ttl, err := admin.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, ttl, 3*time.Minute, "three tokens take three minutes to come back")
	assert.Greater(t, ttl, 3*time.Minute-time.Second)
}

func TestUnlimitedNeverAsksRedis(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: closedAddr(t), ContextTimeoutEnabled: true})
	defer down.Close()
	l, err := NewLimiter(down, LimiterConfig{Rate: rate.Inf})
	require.NoError(t, err)
	ok, _, err := l.Take(context.Background(), netip.MustParseAddr("52.213.46.74"))
	require.NoError(t, err)
	assert.True(t, ok)
}

func TestLimiterWhenRedisIsDown(t *testing.T) {
	down := redis.NewClient(&redis.Options{Addr: closedAddr(t), ContextTimeoutEnabled: true, MaxRetries: -1})
	defer down.Close()
	client := netip.MustParseAddr("52.213.46.74")

	closed, err := NewLimiter(down, LimiterConfig{Rate: 1, Burst: 1})
	require.NoError(t, err)
	ok, _, err := closed.Take(context.Background(), client)
	require.ErrorIs(t, err, middleware.ErrLimiterUnavailable)
	assert.False(t, ok, "fails closed by default")
	assert.True(t, strings.HasPrefix(err.Error(), "redisstore: rate limit: "), err.Error())

	var logs syncbuf.Buffer
	open, err := NewLimiter(down, LimiterConfig{Rate: 1, Burst: 1, FailOpen: true, Logger: jsonLogger(&logs)})
	require.NoError(t, err)
	ok, _, err = open.Take(context.Background(), client)
	require.NoError(t, err)
	assert.True(t, ok, "FailOpen admits")
	assert.Contains(t, logs.String(), `"level":"ERROR"`)
	assert.Contains(t, logs.String(), "admitted unchecked")
	assert.Contains(t, logs.String(), `"client_ip":"52.213.46.74"`)
}

func TestLimiterConfigErrors(t *testing.T) {
	good := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	defer good.Close()
	var logs syncbuf.Buffer
	tests := []struct {
		name string
		cfg  LimiterConfig
		err  string
	}{
		{"zero rate", LimiterConfig{Burst: 1}, "LimiterConfig.Rate 0 must be positive"},
		{"negative rate", LimiterConfig{Rate: -1, Burst: 1}, "LimiterConfig.Rate"},
		{"NaN rate", LimiterConfig{Rate: rate.Limit(math.NaN()), Burst: 1}, "LimiterConfig.Rate"},
		{"zero burst", LimiterConfig{Rate: 1}, "LimiterConfig.Burst 0 must be at least 1"},
		{"a bucket refilling for over a month", LimiterConfig{Rate: rate.Every(time.Hour), Burst: 24*31 + 1}, "MaxRefill"},
		{"fail open without a logger", LimiterConfig{Rate: 1, Burst: 1, FailOpen: true}, "FailOpen needs a Logger"},
		{"negative timeout", LimiterConfig{Rate: 1, Burst: 1, Timeout: -1}, "LimiterConfig.Timeout"},
		{"over a million a second", LimiterConfig{Rate: 1e6 + 1, Burst: 1}, "over 1e+06 per second"},
		{"a million a second", LimiterConfig{Rate: 1e6, Burst: 1}, ""},
		{"no limit needs no burst", LimiterConfig{Rate: rate.Inf}, ""},
		{"a month to refill", LimiterConfig{Rate: rate.Every(time.Hour), Burst: 24 * 30}, ""},
		{"fail open with a logger", LimiterConfig{Rate: 1, Burst: 1, FailOpen: true, Logger: jsonLogger(&logs)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewLimiter(good, tt.cfg)
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
			assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "))
		})
	}
	_, err := NewLimiter(nil, LimiterConfig{Rate: 1, Burst: 1})
	require.ErrorContains(t, err, "client is nil")
}
