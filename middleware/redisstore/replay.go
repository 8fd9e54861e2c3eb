package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smileguard/smileguard/middleware"
)

// ReplayConfig configures a ReplayStore. Its zero value is ready to use.
type ReplayConfig struct {
	Prefix  string        // starts every key; "": DefaultPrefix. Instances that share deliveries share it.
	Timeout time.Duration // bounds each call to Redis; 0: DefaultTimeout
}

// A ReplayStore is a [middleware.ReplayStore] kept in Redis, so that several
// instances behind a load balancer remember each delivery together: a
// replay sent to one instance is refused after another accepted the
// original, and a delivery claimed by an instance that died is taken over
// by another once its lease has run out. It keeps the in-memory store's
// semantics exactly, checked by the same conformance suite
// (middleware/replaytest). [NewReplayStore] makes one; the zero value is
// not usable. It is safe for concurrent use.
//
// Begin, Renew and Finish are one Lua script each, on one key, run
// atomically in one round trip: of several instances racing on one
// delivery, one claims it, and a late Renew or Finish from an attempt whose
// lease ran out returns [middleware.ErrClaimLost] and changes nothing. A
// key, "<Prefix>replay:" and 64 hex digits, holds 79 bytes (no body, no
// signature; see [ReplayStore.Begin]) and expires with the delivery, so
// Redis memory is bounded by the rate of verified callbacks. v0.1
// instances read the same keys (see the package documentation).
//
// Every call is bounded by Timeout. When Redis fails or is slow, Begin
// returns an error that matches [middleware.ErrReplayStore], and the
// verifier refuses the callback with 503 and logs the error: Smile ID
// retries later, and no callback reaches the handler unchecked.
type ReplayStore struct {
	conn
}

// NewReplayStore returns a store that keeps deliveries in Redis through
// client. The client must be created with ContextTimeoutEnabled set, so that
// Timeout bounds each call.
func NewReplayStore(client redis.UniversalClient, cfg ReplayConfig) (*ReplayStore, error) {
	c, err := newConn(client, cfg.Prefix, cfg.Timeout, "ReplayConfig")
	if err != nil {
		return nil, err
	}
	return &ReplayStore{conn: c}, nil
}

// A delivery's value, as v0.1 wrote it: its state (1 byte: 'f' claimed, 'h'
// handled, 'r' released), the token of its last claim (16 bytes), its body
// hash (32 bytes), then its expiry in Unix milliseconds on the verifier's
// clock, in decimal. This version appends '.' and the claim's lease end in
// Unix milliseconds, in leaseDigits decimal digits, all zeros when the
// delivery is not claimed or its claim has no lease (a v0.1 claim). v0.1
// reads the expiry with Lua's tonumber, to which the lease is a fraction
// of a millisecond: it sees the same expiry and states.
//
// A claim is taken over when its lease ended by the verifier's clock
// (ARGV[3], now). A claim without a lease, v0.1's, is not: v0.1's Finish
// does not check the token and would finish the new holder's claim. The
// claim's own token answers "new" again, so that Begin is safe to retry:
// go-redis retries a call whose connection broke, and a claim that Redis
// made before the break must not find itself in flight.
//
// A value that is none of these is an error, never a pass. SETRANGE keeps
// the key's TTL: a claim never extends it.
var beginScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
local now = tonumber(ARGV[3])
if v then
	local expiry, lease = string.match(v, '^(%d+)%.(%d+)$', 50)
	if not expiry then
		expiry = string.match(v, '^(%d+)$', 50)
	end
	local state = string.sub(v, 1, 1)
	if not expiry or (lease and #lease ~= 16) or not (state == 'f' or state == 'h' or state == 'r') then
		return redis.error_reply('not a replay entry')
	end
	if now < tonumber(expiry) then
		if string.sub(v, 18, 49) ~= ARGV[1] then
			return 'c'
		end
		if state == 'h' then
			return 'h'
		end
		if state == 'f' and string.sub(v, 2, 17) ~= ARGV[2] and not (lease and tonumber(lease) > 0 and now >= tonumber(lease)) then
			return 'f'
		end
		redis.call('SETRANGE', KEYS[1], 0, 'f' .. ARGV[2])
		redis.call('SETRANGE', KEYS[1], 49 + #expiry, '.' .. ARGV[6])
		return 'n'
	end
end
redis.call('SET', KEYS[1], 'f' .. ARGV[2] .. ARGV[1] .. ARGV[4] .. '.' .. ARGV[6], 'PX', ARGV[5])
return 'n'
`)

// renewScript sets the lease end of the live claim held by ARGV[2] on the
// body hash ARGV[1], and answers 1; anything else answers 0 and changes
// nothing.
var renewScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 1, 1) ~= 'f' or string.sub(v, 2, 17) ~= ARGV[2] or string.sub(v, 18, 49) ~= ARGV[1] then
	return 0
end
local expiry, lease = string.match(v, '^(%d+)%.(%d+)$', 50)
if not expiry or #lease ~= 16 then
	return redis.error_reply('not a replay entry')
end
if tonumber(ARGV[3]) >= tonumber(expiry) then
	return 0
end
redis.call('SETRANGE', KEYS[1], 49 + #expiry, '.' .. ARGV[4])
return 1
`)

// finishScript sets the state of the live claim held by ARGV[2] on the
// body hash ARGV[1] to ARGV[4] and clears its lease, and answers 1; it
// answers 1 too, changing nothing, if ARGV[2] finished it so already (a
// retried call); anything else answers 0 and changes nothing.
var finishScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v or string.sub(v, 2, 17) ~= ARGV[2] or string.sub(v, 18, 49) ~= ARGV[1] then
	return 0
end
local state = string.sub(v, 1, 1)
if state ~= 'f' then
	if state == ARGV[4] then
		return 1
	end
	return 0
end
local expiry, lease = string.match(v, '^(%d+)%.(%d+)$', 50)
if not expiry or #lease ~= 16 then
	return redis.error_reply('not a replay entry')
end
if tonumber(ARGV[3]) >= tonumber(expiry) then
	return 0
end
redis.call('SETRANGE', KEYS[1], 0, ARGV[4])
redis.call('SETRANGE', KEYS[1], 49 + #expiry, '.0000000000000000')
return 1
`)

// leaseDigits is the width of a value's lease end: Unix milliseconds up to
// the year 318857.
const leaseDigits = 16

// Begin implements middleware.ReplayStore. It uses ctx, the request's, with
// the store's Timeout.
//
// Redis keeps times to the millisecond, rounded so that an entry is
// remembered and a claim held longer, never less: the entry until d.Now
// plus d.TTL rounded up, and past that until d.FreshUntil's millisecond
// has passed; the claim until d.Now plus d.Lease rounded up. The key's own
// expiry, on Redis's clock, covers the entry's.
func (s *ReplayStore) Begin(ctx context.Context, d middleware.Delivery) (middleware.ReplayState, error) {
	if d.Token == ([16]byte{}) {
		return 0, middleware.ErrZeroToken
	}
	now, expiry := floorMilli(d.Now), ceilMilli(d.Now.Add(d.TTL))
	if !d.FreshUntil.IsZero() {
		expiry = max(expiry, floorMilli(d.FreshUntil)+1)
	}
	ttl := max(expiry-now, 1) // SET refuses PX 0
	reply, err := s.run(ctx, beginScript, s.key(&d), d.BodyHash[:], d.Token[:], now, expiry, ttl, leaseEnd(d)).Text()
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

// Renew implements middleware.ReplayStore. The verifier passes a context
// without the request's cancellation; the store's Timeout bounds it.
func (s *ReplayStore) Renew(ctx context.Context, d middleware.Delivery) error {
	held, err := s.run(ctx, renewScript, s.key(&d), d.BodyHash[:], d.Token[:], floorMilli(d.Now), leaseEnd(d)).Int()
	if err != nil {
		return &opError{op: "replay renew", sentinel: middleware.ErrReplayStore, err: err}
	}
	if held != 1 {
		return middleware.ErrClaimLost
	}
	return nil
}

// Finish implements middleware.ReplayStore. The verifier passes a context
// without the request's cancellation, so that the client going away does
// not leave the delivery claimed; the store's Timeout still bounds it.
//
// Finish sends its script whole (EVAL), not by its SHA1, so that a Finish
// Redis gets late (it was stalled, and the verifier gave up waiting) is
// still applied when Redis resumes, even if Redis has forgotten its
// scripts: a handled mark that lands late spares a second run of the
// handler once the lease has lapsed.
//
// go-redis runs a call again when its connection broke, even if Redis had
// run it: a Finish retried so finds its own claim finished as asked, and
// answers nil.
func (s *ReplayStore) Finish(ctx context.Context, d middleware.Delivery, handled bool) error {
	state := "r"
	if handled {
		state = "h"
	}
	held, err := s.eval(ctx, finishScript, s.key(&d), d.BodyHash[:], d.Token[:], floorMilli(d.Now), state).Int()
	if err != nil {
		return &opError{op: "replay finish", sentinel: middleware.ErrReplayStore, err: err}
	}
	if held != 1 {
		return middleware.ErrClaimLost
	}
	return nil
}

// key is the delivery's key: the prefix, "replay:" and, in hex, the
// SHA-256 of the signature's length, the signature and the timestamp, as
// v0.1 named a pair. The signature is the base64 text the ID (its MAC)
// decodes from: the verifier accepts only its one canonical spelling.
func (s *ReplayStore) key(d *middleware.Delivery) string {
	var buf [1 + signatureChars + 128]byte
	msg := append(buf[:0], signatureChars)
	msg = base64.StdEncoding.AppendEncode(msg, d.ID[:])
	msg = append(msg, d.Timestamp...)
	sum := sha256.Sum256(msg)
	key := make([]byte, 0, len(s.prefix)+len("replay:")+2*sha256.Size)
	key = append(key, s.prefix...)
	key = append(key, "replay:"...)
	return string(hex.AppendEncode(key, sum[:]))
}

// signatureChars is the length of a signature: 32 bytes in padded base64.
const signatureChars = 44

// leaseEnd is the end of d's claim in Unix milliseconds, rounded up, in
// leaseDigits digits. It is at least 1: 0 means no lease.
func leaseEnd(d middleware.Delivery) string {
	if d.Lease == 0 {
		d.Lease = middleware.DefaultLease
	}
	const most = 1e16 - 1
	end := min(max(ceilMilli(d.Now.Add(d.Lease)), 1), most)
	var buf [leaseDigits]byte
	digits := strconv.AppendInt(buf[:0], end, 10)
	out := make([]byte, leaseDigits)
	for i := range out {
		out[i] = '0'
	}
	copy(out[leaseDigits-len(digits):], digits)
	return string(out)
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
