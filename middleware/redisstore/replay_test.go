package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/replaytest"
	"github.com/smileguard/smileguard/signer"
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

const (
	testTTL   = 10*time.Minute + time.Second // the verifier's default
	testLease = 10 * time.Second             // the verifier's default
)

// delivery returns a delivery at testNow whose pair and body hash are
// derived from pair and body; attempt gives it a token.
func delivery(pair, body string) middleware.Delivery {
	return middleware.Delivery{
		ID:        sha256.Sum256([]byte(pair)),
		BodyHash:  sha256.Sum256([]byte(body)),
		Timestamp: []byte(signer.FormatTimestamp(testNow)),
		Now:       testNow,
		TTL:       testTTL,
		Lease:     testLease,
	}
}

var tokens atomic.Uint64

// attempt returns d with a token of its own.
func attempt(d middleware.Delivery) middleware.Delivery {
	d.Token[0] = 0xa5
	binary.BigEndian.PutUint64(d.Token[8:], tokens.Add(1))
	return d
}

// after returns d (or an attempt) seen elapsed after testNow.
func after(d middleware.Delivery, elapsed time.Duration) middleware.Delivery {
	d.Now = testNow.Add(elapsed)
	return d
}

func begin(t *testing.T, store middleware.ReplayStore, d middleware.Delivery) middleware.ReplayState {
	t.Helper()
	state, err := store.Begin(context.Background(), d)
	require.NoError(t, err)
	return state
}

func TestStoresShareDeliveries(t *testing.T) {
	srv := startRedis(t)
	stores := newStores(t, srv, 2, ReplayConfig{})
	ctx := context.Background()
	d := delivery("pair", "body")

	first := attempt(d)
	assert.Equal(t, middleware.ReplayNew, begin(t, stores[0], first))
	assert.Equal(t, middleware.ReplayInFlight, begin(t, stores[1], attempt(d)), "the other instance sees the claim")
	require.NoError(t, stores[0].Finish(ctx, first, false))
	second := attempt(d)
	assert.Equal(t, middleware.ReplayNew, begin(t, stores[1], second), "and its release")

	// The second instance's claim lapses (it died): the first takes over,
	// and a late Finish from the second changes nothing.
	third := attempt(after(d, testLease))
	assert.Equal(t, middleware.ReplayNew, begin(t, stores[0], third), "a lapsed claim is taken over")
	require.ErrorIs(t, stores[1].Finish(ctx, after(second, testLease), true), middleware.ErrClaimLost)
	require.ErrorIs(t, stores[1].Renew(ctx, after(second, testLease)), middleware.ErrClaimLost)
	assert.Equal(t, middleware.ReplayInFlight, begin(t, stores[1], attempt(after(d, testLease))), "the late Finish marked nothing")
	require.NoError(t, stores[0].Finish(ctx, after(third, testLease), true))
	assert.Equal(t, middleware.ReplayHandled, begin(t, stores[1], attempt(after(d, testLease))))

	// Claims racing from two instances: one wins.
	race := delivery("raced pair", "body")
	var wg sync.WaitGroup
	states := make(chan middleware.ReplayState, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(store *ReplayStore, d middleware.Delivery) {
			defer wg.Done()
			s, err := store.Begin(ctx, d)
			assert.NoError(t, err)
			states <- s
		}(stores[i%2], attempt(race))
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

// breaker is a TCP proxy in front of Redis that can drop the connection
// carrying the next reply, after Redis has run the command: what go-redis
// sees when a connection breaks at the worst moment, and retries.
type breaker struct {
	addr  string
	armed atomic.Bool
	broke atomic.Int32
}

func newBreaker(t *testing.T, target string) *breaker {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	b := &breaker{addr: l.Addr().String()}
	var conns sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		conns.Wait()
	})
	go func() {
		for {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.Dial("tcp", target)
			if err != nil {
				client.Close()
				continue
			}
			conns.Add(2)
			go func() {
				defer conns.Done()
				_, _ = io.Copy(server, client)
				server.Close()
			}()
			go func() {
				defer conns.Done()
				defer client.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := server.Read(buf)
					if n > 0 && b.armed.CompareAndSwap(true, false) {
						b.broke.Add(1)
						server.Close()
						return // the reply is lost with the connection
					}
					if n > 0 {
						if _, err := client.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return b
}

// go-redis runs a call again when its connection broke, even if Redis had
// run it. A retried Begin finds its own claim and answers new; a retried
// Renew renews again; a retried Finish finds the claim finished, as asked,
// and says so with ErrClaimLost.
func TestCallsRetriedAfterABrokenConnection(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client()
	ctx := context.Background()
	for _, script := range []*redis.Script{beginScript, renewScript, finishScript} {
		require.NoError(t, script.Load(ctx, admin).Err(), "so that the first call runs the script, not EVAL's fallback")
	}
	b := newBreaker(t, srv.Addr())
	client := redis.NewClient(&redis.Options{Addr: b.addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	store, err := NewReplayStore(client, ReplayConfig{})
	require.NoError(t, err)
	other, err := NewReplayStore(admin, ReplayConfig{})
	require.NoError(t, err)
	d := attempt(delivery("pair", "body"))
	require.NoError(t, client.Ping(ctx).Err(), "a connection whose handshake is done")

	b.armed.Store(true)
	assert.Equal(t, middleware.ReplayNew, begin(t, store, d), "the retry found its own claim")
	require.EqualValues(t, 1, b.broke.Load(), "the connection broke once")
	assert.Equal(t, middleware.ReplayInFlight, begin(t, other, attempt(d)), "others find it in flight")

	b.armed.Store(true)
	require.NoError(t, store.Renew(ctx, after(d, testLease/2)))
	require.EqualValues(t, 2, b.broke.Load())
	assert.Equal(t, middleware.ReplayInFlight, begin(t, other, attempt(after(d, testLease))), "renewed")

	b.armed.Store(true)
	require.ErrorIs(t, store.Finish(ctx, after(d, testLease), true), middleware.ErrClaimLost,
		"the retry found the claim finished")
	require.EqualValues(t, 3, b.broke.Load())
	assert.Equal(t, middleware.ReplayHandled, begin(t, other, attempt(after(d, testLease))), "by the first run")
}

func TestReplayKeysAreBoundedAndHoldNoSecret(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client()
	store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "app:"})
	require.NoError(t, err)
	ctx := context.Background()
	d := attempt(delivery("pair", "a body that must never reach Redis"))

	require.Equal(t, middleware.ReplayNew, begin(t, store, d))
	keys, err := admin.Keys(ctx, "*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 1)
	assert.Regexp(t, `^app:replay:[0-9a-f]{64}$`, keys[0])

	pttl := func() time.Duration {
		t.Helper()
		ttl, err := admin.PTTL(ctx, keys[0]).Result()
		require.NoError(t, err)
		return ttl
	}
	ttl := pttl()
	assert.Greater(t, ttl, d.TTL-time.Minute, "the key expires with the delivery")
	assert.LessOrEqual(t, ttl, d.TTL)

	value, err := admin.Get(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.Len(t, value, 79)
	assert.NotContains(t, value, "a body")
	assert.NotContains(t, value, string(d.ID[:]), "nor the signature")
	assert.Contains(t, value, string(d.BodyHash[:]), "only the body's hash")

	// Neither a Renew, nor a takeover, nor Finish extends the key's TTL.
	require.NoError(t, store.Renew(ctx, after(d, 5*time.Second)))
	taken := attempt(after(d, 15*time.Second))
	require.Equal(t, middleware.ReplayNew, begin(t, store, taken))
	require.NoError(t, store.Finish(ctx, taken, true))
	assert.LessOrEqual(t, pttl(), ttl)
	assert.Positive(t, pttl())
	value, err = admin.Get(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.Len(t, value, 79, "nor its size")

	others, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "other-app:"})
	require.NoError(t, err)
	assert.Equal(t, middleware.ReplayNew, begin(t, others, attempt(d)), "prefixes keep applications apart")
}

// The key outlives the entry's TTL when FreshUntil keeps the entry longer:
// Redis must not drop what the verifier's clock still needs.
func TestReplayKeyCoversFreshUntil(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client()
	store, err := NewReplayStore(srv.client(), ReplayConfig{})
	require.NoError(t, err)
	d := attempt(delivery("pair", "body"))
	d.FreshUntil = d.Now.Add(2 * d.TTL)

	require.Equal(t, middleware.ReplayNew, begin(t, store, d))
	ttl, err := admin.PTTL(context.Background(), store.key(&d)).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 2*d.TTL-time.Minute)
	assert.LessOrEqual(t, ttl, 2*d.TTL+time.Millisecond)
}

func TestReplayStoreErrors(t *testing.T) {
	srv := startRedis(t)
	admin := srv.client()
	ctx := context.Background()
	d := attempt(delivery("pair", "body"))

	for _, value := range []string{
		"not a delivery",
		"f" + strings.Repeat("t", 16) + strings.Repeat("h", 32),                           // no expiry
		"f" + strings.Repeat("t", 16) + strings.Repeat("h", 32) + "1763719200000.123",     // a lease of another width
		"x" + strings.Repeat("t", 16) + string(d.BodyHash[:]) + "9763719200000",           // an unknown state
		"f" + strings.Repeat("t", 16) + string(d.BodyHash[:]) + "9763719200000.1.2",       // two leases
		"f" + strings.Repeat("t", 16) + string(d.BodyHash[:]) + "9763719200000 ",          // a space
		"f" + strings.Repeat("t", 16) + string(d.BodyHash[:]) + "-9763719200000.00000000", // a sign
	} {
		t.Run("a value the store did not write is an error, not a pass: "+value[:min(len(value), 16)], func(t *testing.T) {
			store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "corrupt:"})
			require.NoError(t, err)
			require.NoError(t, admin.Set(ctx, store.key(&d), value, time.Minute).Err())
			_, err = store.Begin(ctx, d)
			require.ErrorIs(t, err, middleware.ErrReplayStore)
			assert.True(t, strings.HasPrefix(err.Error(), "redisstore: replay begin: "), err.Error())
		})
	}
	t.Run("a claim with a lease of another width is an error for Renew and Finish", func(t *testing.T) {
		store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "corrupt-claim:"})
		require.NoError(t, err)
		value := "f" + string(d.Token[:]) + string(d.BodyHash[:]) + "9763719200000.123"
		require.NoError(t, admin.Set(ctx, store.key(&d), value, time.Minute).Err())
		require.ErrorIs(t, store.Renew(ctx, d), middleware.ErrReplayStore)
		require.ErrorIs(t, store.Finish(ctx, d, true), middleware.ErrReplayStore)
	})
	t.Run("a slow Redis times out", func(t *testing.T) {
		store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "slow:", Timeout: 50 * time.Millisecond})
		require.NoError(t, err)
		pause(t, admin, 300*time.Millisecond)
		_, err = store.Begin(ctx, d)
		require.ErrorIs(t, err, middleware.ErrReplayStore)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		err = store.Renew(ctx, d)
		require.ErrorIs(t, err, middleware.ErrReplayStore)
		assert.True(t, strings.HasPrefix(err.Error(), "redisstore: replay renew: "), err.Error())
		err = store.Finish(ctx, d, true)
		require.ErrorIs(t, err, middleware.ErrReplayStore)
		assert.NotErrorIs(t, err, middleware.ErrClaimLost, "an outage is not a lost claim")
		require.NoError(t, admin.Ping(ctx).Err(), "waits out the pause")
		assert.Equal(t, middleware.ReplayNew, begin(t, store, attempt(d)), "the claim that timed out was not made")
	})
	t.Run("a cancelled request is not claimed", func(t *testing.T) {
		store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "cancelled:"})
		require.NoError(t, err)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		_, err = store.Begin(cancelled, d)
		require.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, middleware.ReplayNew, begin(t, store, attempt(d)), "the cancelled request left no claim")
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
