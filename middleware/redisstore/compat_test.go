package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// v01Store is the replay store of v0.1 (commit ff91d47), its scripts and
// keys copied verbatim, so that the tests can check what v0.1 and this
// version see of each other's deliveries while they share one Redis during
// a rolling deploy.
type v01Store struct {
	client redis.UniversalClient
	prefix string
}

var v01BeginScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and tonumber(ARGV[3]) < tonumber(string.sub(v, 50)) then
	if string.sub(v, 18, 49) ~= ARGV[1] then
		return 'c'
	end
	local state = string.sub(v, 1, 1)
	if state == 'r' then
		redis.call('SETRANGE', KEYS[1], 0, 'f' .. ARGV[2])
		return 'n'
	end
	if state == 'f' and string.sub(v, 2, 17) == ARGV[2] then
		return 'n'
	end
	return state
end
redis.call('SET', KEYS[1], 'f' .. ARGV[2] .. ARGV[1] .. ARGV[4], 'PX', ARGV[5])
return 'n'
`)

var v01FinishScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'f' and string.sub(v, 18, 49) == ARGV[1] then
	redis.call('SETRANGE', KEYS[1], 0, ARGV[2])
end
return 1
`)

// v01Delivery is what v0.1 knew of a delivery: the signature as its base64
// text, the timestamp, the body hash, the clock and the TTL. Its token
// stands for the one v0.1 drew for each Begin.
type v01Delivery struct {
	signature, timestamp string
	bodyHash             [32]byte
	token                [16]byte
	now                  time.Time
	ttl                  time.Duration
}

// key is v0.1's deliveryID, in hex, after the prefix and "replay:".
func (s *v01Store) key(d v01Delivery) string {
	var buf [1 + 64 + 128]byte
	msg := append(buf[:0], byte(len(d.signature)))
	msg = append(msg, d.signature...)
	msg = append(msg, d.timestamp...)
	id := sha256.Sum256(msg)
	return s.prefix + "replay:" + hex.EncodeToString(id[:])
}

// begin answers as v0.1's Begin did: "n", "f", "h" or "c".
func (s *v01Store) begin(t *testing.T, d v01Delivery) string {
	t.Helper()
	now, expiry := floorMilli(d.now), ceilMilli(d.now.Add(d.ttl))
	ttl := max(expiry-now, 1)
	reply, err := v01BeginScript.Run(context.Background(), s.client, []string{s.key(d)}, d.bodyHash[:], d.token[:], now, expiry, ttl).Text()
	require.NoError(t, err, "v0.1 reads the value")
	return reply
}

func (s *v01Store) finish(t *testing.T, d v01Delivery, handled bool) {
	t.Helper()
	state := "r"
	if handled {
		state = "h"
	}
	require.NoError(t, v01FinishScript.Run(context.Background(), s.client, []string{s.key(d)}, d.bodyHash[:], state).Err())
}

// compatPair is one signed (signature, timestamp) pair, as v0.1 and this
// version each describe a delivery of it.
type compatPair struct {
	signature, timestamp string
}

func newCompatPair(at time.Time) compatPair {
	ts := signer.FormatTimestamp(at)
	return compatPair{signature: signer.Sign(productionKey.APIKey, productionKey.PartnerID, ts), timestamp: ts}
}

func (p compatPair) delivery(t *testing.T, body string, elapsed time.Duration) middleware.Delivery {
	mac, err := base64.StdEncoding.Strict().DecodeString(p.signature)
	require.NoError(t, err)
	d := attempt(delivery("", body))
	d.ID = [32]byte(mac)
	d.Timestamp = []byte(p.timestamp)
	return after(d, elapsed)
}

func (p compatPair) v01(body string, elapsed time.Duration) v01Delivery {
	d := attempt(delivery("", body))
	return v01Delivery{signature: p.signature, timestamp: p.timestamp, bodyHash: d.BodyHash, token: d.Token,
		now: testNow.Add(elapsed), ttl: testTTL}
}

func TestKeysAreV01s(t *testing.T) {
	srv := startRedis(t)
	store, err := NewReplayStore(srv.client(), ReplayConfig{Prefix: "app:"})
	require.NoError(t, err)
	old := &v01Store{prefix: "app:"}
	p := newCompatPair(testNow)
	d := p.delivery(t, "body", 0)
	assert.Equal(t, old.key(p.v01("body", 0)), store.key(&d))
}

// A v0.1 instance and a new one share one Redis: each sees the other's
// claims, handled marks, releases, body bindings and expiries. What v0.1
// does not know is leases: it holds every claim until it is finished or
// expires, as it always did, and the new store holds v0.1's claims so too.
func TestV01AndThisVersionShareDeliveries(t *testing.T) {
	srv := startRedis(t)
	client := srv.client()
	store, err := NewReplayStore(client, ReplayConfig{})
	require.NoError(t, err)
	old := &v01Store{client: client, prefix: DefaultPrefix}
	ctx := context.Background()
	pairs := 0
	pair := func() compatPair {
		pairs++
		return newCompatPair(testNow.Add(time.Duration(pairs) * time.Millisecond))
	}
	state := func(d middleware.Delivery) string {
		t.Helper()
		s := begin(t, store, d)
		return map[middleware.ReplayState]string{middleware.ReplayNew: "n", middleware.ReplayInFlight: "f",
			middleware.ReplayHandled: "h", middleware.ReplayConflict: "c"}[s]
	}

	t.Run("a v0.1 claim is in flight for the new store until v0.1 finishes it", func(t *testing.T) {
		p := pair()
		claim := p.v01("body", 0)
		require.Equal(t, "n", old.begin(t, claim))
		assert.Equal(t, "f", state(p.delivery(t, "body", 0)))
		assert.Equal(t, "f", state(p.delivery(t, "body", 2*testLease)), "it has no lease to lapse")
		assert.Equal(t, "c", state(p.delivery(t, "another body", 0)), "and is bound to its body")
		old.finish(t, claim, true)
		assert.Equal(t, "h", state(p.delivery(t, "body", 0)))
	})
	t.Run("a new claim is in flight for v0.1 until the new store finishes it", func(t *testing.T) {
		p := pair()
		claim := p.delivery(t, "body", 0)
		require.Equal(t, "n", state(claim))
		assert.Equal(t, "f", old.begin(t, p.v01("body", 0)))
		assert.Equal(t, "f", old.begin(t, p.v01("body", 2*testLease)), "v0.1 knows no lease")
		assert.Equal(t, "c", old.begin(t, p.v01("another body", 0)))
		require.NoError(t, store.Finish(ctx, claim, true))
		assert.Equal(t, "h", old.begin(t, p.v01("body", 0)))
		assert.Equal(t, "c", old.begin(t, p.v01("another body", 0)))
	})
	t.Run("a delivery one version released is claimed by the other", func(t *testing.T) {
		p := pair()
		first := p.delivery(t, "body", 0)
		require.Equal(t, "n", state(first))
		require.NoError(t, store.Finish(ctx, first, false))
		second := p.v01("body", time.Second)
		assert.Equal(t, "n", old.begin(t, second), "v0.1 claims the new store's release")
		assert.Equal(t, "f", state(p.delivery(t, "body", 3*testLease)), "a claim without a lease, held until finished")
		old.finish(t, second, false)
		third := p.delivery(t, "body", 3*testLease)
		assert.Equal(t, "n", state(third), "the new store claims v0.1's release")
		assert.Equal(t, "f", old.begin(t, p.v01("body", 3*testLease)))
		require.NoError(t, store.Finish(ctx, third, true))
		assert.Equal(t, "h", old.begin(t, p.v01("body", 3*testLease)))
	})
	t.Run("a lapsed new claim is taken over by the new store, v0.1 still waits", func(t *testing.T) {
		p := pair()
		first := p.delivery(t, "body", 0)
		require.Equal(t, "n", state(first))
		assert.Equal(t, "f", old.begin(t, p.v01("body", testLease)))
		taken := p.delivery(t, "body", testLease)
		assert.Equal(t, "n", state(taken))
		require.ErrorIs(t, store.Finish(ctx, after(first, testLease), true), middleware.ErrClaimLost)
		require.NoError(t, store.Finish(ctx, taken, true))
		assert.Equal(t, "h", old.begin(t, p.v01("body", testLease)))
	})
	t.Run("both versions expire an entry at the same instant", func(t *testing.T) {
		p, q := pair(), pair()
		claim := p.delivery(t, "body", 0)
		require.Equal(t, "n", state(claim))
		require.NoError(t, store.Finish(ctx, claim, true))
		assert.Equal(t, "h", old.begin(t, p.v01("body", testTTL-time.Millisecond)))
		assert.Equal(t, "n", old.begin(t, p.v01("another body", testTTL)), "v0.1 starts it over at the TTL")

		require.Equal(t, "n", old.begin(t, q.v01("body", 0)))
		assert.Equal(t, "c", state(q.delivery(t, "another body", testTTL-time.Millisecond)))
		assert.Equal(t, "n", state(q.delivery(t, "another body", testTTL)), "and so does the new store v0.1's")
	})
	t.Run("v0.1 keeps an entry as long as FreshUntil asks", func(t *testing.T) {
		p := pair()
		claim := p.delivery(t, "body", 0)
		claim.FreshUntil = claim.Now.Add(2 * testTTL)
		require.Equal(t, "n", state(claim))
		require.NoError(t, store.Finish(ctx, claim, true))
		assert.Equal(t, "h", old.begin(t, p.v01("body", 2*testTTL)))
		assert.Equal(t, "c", old.begin(t, p.v01("another body", 2*testTTL)))
		assert.Equal(t, "n", old.begin(t, p.v01("another body", 2*testTTL+time.Millisecond)))
	})
}
