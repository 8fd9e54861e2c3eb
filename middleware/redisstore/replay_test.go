package redisstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/replaytest"
)

func TestReplayStoreConformance(t *testing.T) {
	srv := startRedis(t)
	client := srv.client()
	replaytest.Run(t, func(t *testing.T) middleware.ReplayStore {
		// A prefix per subtest: they share one server.
		store, err := NewReplayStore(client, ReplayConfig{Prefix: t.Name() + ":"})
		require.NoError(t, err)
		return store
	})
}

// newStores returns n stores on srv with their own clients, as n instances
// would have.
func newStores(t *testing.T, srv *redisServer, n int, cfg ReplayConfig) []*ReplayStore {
	stores := make([]*ReplayStore, n)
	for i := range stores {
		var err error
		stores[i], err = NewReplayStore(srv.client(), cfg)
		require.NoError(t, err)
	}
	return stores
}

func delivery(id, body string) middleware.Delivery {
	return middleware.Delivery{ID: sha256.Sum256([]byte(id)), BodyHash: sha256.Sum256([]byte(body)), Now: testNow, TTL: 10*time.Minute + time.Second}
}

func TestStoresShareDeliveries(t *testing.T) {
	srv := startRedis(t)
	stores := newStores(t, srv, 2, ReplayConfig{})
	ctx := context.Background()
	d := delivery("pair", "body")

	state, err := stores[0].Begin(ctx, d)
	require.NoError(t, err)
	assert.Equal(t, middleware.ReplayNew, state)
	state, err = stores[1].Begin(ctx, d)
	require.NoError(t, err)
	assert.Equal(t, middleware.ReplayInFlight, state, "the other instance sees the claim")
	require.NoError(t, stores[0].Finish(ctx, d, false))
	state, err = stores[1].Begin(ctx, d)
	require.NoError(t, err)
	assert.Equal(t, middleware.ReplayNew, state, "and its release")

	// Claims racing from two instances: one wins.
	race := delivery("raced pair", "body")
	var wg sync.WaitGroup
	states := make(chan middleware.ReplayState, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(store *ReplayStore) {
			defer wg.Done()
			s, err := store.Begin(ctx, race)
			assert.NoError(t, err)
			states <- s
		}(stores[i%2])
	}
	wg.Wait()
	close(states)
	won := 0
	for s := range states {
		if s == middleware.ReplayNew {
			won++
		}
	}
	assert.Equal(t, 1, won)
}

func TestRetriedClaimIsTheClaimantsOwn(t *testing.T) {
	srv := startRedis(t)
	store, err := NewReplayStore(srv.client(), ReplayConfig{})
	require.NoError(t, err)
	ctx := context.Background()
	d := delivery("pair", "body")
	// go-redis runs a call again when its connection broke, even if
	// Redis had run the script: the retry must not find its own claim in
	// flight.
	token := store.tokens.next()
	for i := 0; i < 2; i++ {
		state, err := store.begin(ctx, d, token)
		require.NoError(t, err)
		assert.Equal(t, middleware.ReplayNew, state, "attempt %d", i+1)
	}
	state, err := store.Begin(ctx, d)
	require.NoError(t, err)
	assert.Equal(t, middleware.ReplayInFlight, state, "any other claim finds it in flight")
	assert.NotEqual(t, token, store.tokens.next())
}

func TestReplayKeysAreBoundedAndHoldNoSecret(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client()
	store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "app:"})
	require.NoError(t, err)
	ctx := context.Background()
	d := delivery("pair", "a body that must never reach Redis")

	_, err = store.Begin(ctx, d)
	require.NoError(t, err)
	keys, err := admin.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Regexp(t, `^app:replay:[0-9a-f]{64}$`, keys[0])

	ttl, err := admin.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, d.TTL-time.Minute, "the key expires with the delivery")
	assert.LessOrEqual(t, ttl, d.TTL)

	value, err := admin.Get(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.Len(t, value, 62)
	assert.NotContains(t, value, "a body")
	assert.Contains(t, value, string(d.BodyHash[:]), "only the body's hash")

	require.NoError(t, store.Finish(ctx, d, true))
	ttl2, err := admin.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, ttl2, ttl, "finishing does not extend the TTL")
	assert.Greater(t, ttl2, time.Duration(0))

	others, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "other-app:"})
	require.NoError(t, err)
	state, err := others.Begin(ctx, d)
	require.NoError(t, err)
	assert.Equal(t, middleware.ReplayNew, state, "prefixes keep applications apart")
}

func TestReplayStoreErrors(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client()
	ctx := context.Background()
	d := delivery("pair", "body")

	t.Run("a value the store did not write is an error, not a pass", func(t *testing.T) {
		store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "corrupt:"})
		require.NoError(t, err)
		require.NoError(t, admin.Set(ctx, store.key(d.ID), "not a delivery", time.Minute).Err())
		_, err = store.Begin(ctx, d)
		require.ErrorIs(t, err, middleware.ErrReplayStore)
		assert.True(t, strings.HasPrefix(err.Error(), "redisstore: replay begin: "), err.Error())
	})
	t.Run("a slow Redis times out", func(t *testing.T) {
		store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "slow:", Timeout: 50 * time.Millisecond})
		require.NoError(t, err)
		pause(t, admin, 300*time.Millisecond)
		_, err = store.Begin(ctx, d)
		require.ErrorIs(t, err, middleware.ErrReplayStore)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		err = store.Finish(ctx, d, true)
		require.ErrorIs(t, err, middleware.ErrReplayStore)
		require.NoError(t, admin.Ping(ctx).Err(), "waits out the pause")
		state, err := store.Begin(ctx, d)
		require.NoError(t, err)
		assert.Equal(t, middleware.ReplayNew, state, "the claim that timed out was not made")
	})
	t.Run("a cancelled request is not claimed", func(t *testing.T) {
		store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "cancelled:"})
		require.NoError(t, err)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = store.Begin(cancelled, d)
		require.ErrorIs(t, err, context.Canceled)
		state, err := store.Begin(ctx, d)
		require.NoError(t, err)
		assert.Equal(t, middleware.ReplayNew, state, "the cancelled request left no claim")
	})
	t.Run("Redis down", func(t *testing.T) {
		down := redis.NewClient(&redis.Options{Addr: closedAddr(t), ContextTimeoutEnabled: true, MaxRetries: -1})
		defer down.Close()
		store, err := NewReplayStore(down, ReplayConfig{})
		require.NoError(t, err)
		_, err = store.Begin(ctx, d)
		require.ErrorIs(t, err, middleware.ErrReplayStore)
		var opErr *net.OpError
		require.True(t, errors.As(err, &opErr), "the client's error is kept: %v", err)
	})
}

// closedAddr is a loopback address where nothing listens.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

func TestConfigErrors(t *testing.T) {
	noDeadlines := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	cluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}})
	ring := redis.NewRing(&redis.RingOptions{Addrs: map[string]string{"a": "127.0.0.1:1"}})
	good := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", ContextTimeoutEnabled: true})
	goodCluster := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{"127.0.0.1:1"}, ContextTimeoutEnabled: true})
	for _, c := range []interface{ Close() error }{noDeadlines, cluster, ring, good, goodCluster} {
		defer c.Close()
	}
	tests := []struct {
		name   string
		client redis.UniversalClient
		cfg    ReplayConfig
		err    string
	}{
		{"nil client", nil, ReplayConfig{}, "client is nil"},
		{"client without context deadlines", noDeadlines, ReplayConfig{}, "ContextTimeoutEnabled"},
		{"cluster client without context deadlines", cluster, ReplayConfig{}, "ContextTimeoutEnabled"},
		{"ring without context deadlines", ring, ReplayConfig{}, "ContextTimeoutEnabled"},
		{"negative timeout", good, ReplayConfig{Timeout: -time.Second}, "ReplayConfig.Timeout"},
		{"zero config", good, ReplayConfig{}, ""},
		{"cluster client", goodCluster, ReplayConfig{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, err := NewReplayStore(tt.client, tt.cfg)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				assert.True(t, strings.HasPrefix(err.Error(), "redisstore: "))
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, store.prefix)
			assert.Positive(t, store.timeout)
		})
	}
}
