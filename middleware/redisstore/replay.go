package redisstore

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smileguard/smileguard/middleware"
)

// ReplayConfig configures a ReplayStore. Its zero value is ready to use.
type ReplayConfig struct {
	Prefix  string        // starts every key; "": DefaultPrefix. Instances that share deliveries share it.
	Timeout time.Duration // bounds each call to Redis; 0: DefaultTimeout
}

// A ReplayStore is a middleware.ReplayStore kept in Redis, so that several
// instances behind a load balancer remember each delivery together: a
// replay sent to one instance is refused after another accepted the
// original. It keeps the in-memory store's semantics exactly (one claim per
// (signature, timestamp) pair, bound to its body hash, released when the
// handler fails, remembered for the Delivery's TTL from its first claim),
// checked by the same conformance suite (middleware/replaytest).
//
// Each Begin and Finish is one Lua script on one key, so Redis runs it
// atomically: of several instances racing on one delivery, one claims it.
// A key, "<Prefix>replay:<hex ID>", holds 62 bytes (state, claim token, body
// hash, expiry) and expires with the delivery, so Redis memory is bounded by
// the rate of verified callbacks. Neither the body nor the signature is
// stored.
//
// Every call is bounded by Timeout. When Redis fails or is slow, Begin
// returns an error that matches middleware.ErrReplayStore, and the verifier
// refuses the callback with 503 and logs the error: Smile ID retries later,
// and no callback reaches the handler unchecked.
//
// NewReplayStore makes one; the zero value is not usable. A ReplayStore is
// safe for concurrent use.
type ReplayStore struct {
	conn
	tokens tokenSource
}

// NewReplayStore returns a store that keeps deliveries in Redis through
// client. The client must be created with ContextTimeoutEnabled set, so that
// Timeout bounds each call.
func NewReplayStore(client redis.UniversalClient, cfg ReplayConfig) (*ReplayStore, error) {
	c, err := newConn(client, cfg.Prefix, cfg.Timeout, "ReplayConfig")
	if err != nil {
		return nil, err
	}
	s := &ReplayStore{conn: c}
	if _, err := rand.Read(s.tokens.base[:]); err != nil {
		return nil, fmt.Errorf("redisstore: no randomness for claim tokens: %w", err)
	}
	return s, nil
}

// A delivery's value: state (1 byte: 'f' in flight, 'h' handled, 'r'
// released), claim token (16 bytes), body hash (32 bytes), then the expiry
// in Unix milliseconds, in decimal. The expiry follows the verifier's
// clock, as the in-memory store's does; the key's own TTL, on Redis's clock,
// only frees the memory.
//
// The claim token makes Begin safe to retry: go-redis retries a call whose
// connection broke, and a claim that succeeded before the break must answer
// "new" to its own retry, not "in flight", or the delivery would be stuck
// until it expires.
var beginScript = redis.NewScript(`
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

// finishScript acts only on an in-flight delivery with the same body hash.
// SETRANGE keeps the key's TTL: finishing never extends it.
var finishScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, 1) == 'f' and string.sub(v, 18, 49) == ARGV[1] then
	redis.call('SETRANGE', KEYS[1], 0, ARGV[2])
end
return 1
`)

// Begin implements middleware.ReplayStore. It uses ctx, the request's, with
// the store's Timeout.
//
// Redis keeps times to the millisecond: an entry is remembered until d.Now
// plus d.TTL rounded up to the next millisecond, never less.
func (s *ReplayStore) Begin(ctx context.Context, d middleware.Delivery) (middleware.ReplayState, error) {
	if d.Token == ([16]byte{}) {
		d.Token = s.tokens.next()
	}
	return s.begin(ctx, d, d.Token)
}

// Renew implements middleware.ReplayStore.
func (s *ReplayStore) Renew(context.Context, middleware.Delivery) error {
	return nil
}

// begin claims d with token, which is unique to this call.
func (s *ReplayStore) begin(ctx context.Context, d middleware.Delivery, token [16]byte) (middleware.ReplayState, error) {
	now, expiry := floorMilli(d.Now), ceilMilli(d.Now.Add(d.TTL))
	ttl := max(expiry-now, 1) // SET refuses PX 0
	reply, err := s.run(ctx, beginScript, s.key(d.ID), d.BodyHash[:], token[:], now, expiry, ttl).Text()
	if err != nil {
		return 0, &opError{op: "replay begin", sentinel: middleware.ErrReplayStore, err: err}
	}
	switch reply {
	case "n":
		return middleware.ReplayNew, nil
	case "f":
		return middleware.ReplayInFlight, nil
	case "h":
		return middleware.ReplayHandled, nil
	case "c":
		return middleware.ReplayConflict, nil
	}
	return 0, &opError{op: "replay begin", sentinel: middleware.ErrReplayStore, err: fmt.Errorf("unexpected reply %q", reply)}
}

// Finish implements middleware.ReplayStore. The verifier passes a context
// without the request's cancellation, so that the client going away does
// not leave the delivery in flight; the store's Timeout still bounds it.
func (s *ReplayStore) Finish(ctx context.Context, d middleware.Delivery, handled bool) error {
	state := "r"
	if handled {
		state = "h"
	}
	if err := s.run(ctx, finishScript, s.key(d.ID), d.BodyHash[:], state).Err(); err != nil {
		return &opError{op: "replay finish", sentinel: middleware.ErrReplayStore, err: err}
	}
	return nil
}

// key is the delivery's key: the prefix, "replay:" and the ID in hex.
func (s *ReplayStore) key(id [sha256.Size]byte) string {
	buf := make([]byte, 0, len(s.prefix)+len("replay:")+2*sha256.Size)
	buf = append(buf, s.prefix...)
	buf = append(buf, "replay:"...)
	return string(hex.AppendEncode(buf, id[:]))
}

// tokenSource makes claim tokens unique across instances (a random base)
// and within one (a counter), without a system call per token.
type tokenSource struct {
	base    [8]byte
	counter atomic.Uint64
}

func (t *tokenSource) next() [16]byte {
	var token [16]byte
	copy(token[:8], t.base[:])
	binary.BigEndian.PutUint64(token[8:], t.counter.Add(1))
	return token
}

// floorMilli and ceilMilli round t down and up to Unix milliseconds, so
// that rounding can only make an entry live longer.
func floorMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).After(t) {
		ms--
	}
	return ms
}

func ceilMilli(t time.Time) int64 {
	ms := t.UnixMilli()
	if time.UnixMilli(ms).Before(t) {
		ms++
	}
	return ms
}
