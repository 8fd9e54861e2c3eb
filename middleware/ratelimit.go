package middleware

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// maxWait caps the wait Allow reports, so a tiny Rate cannot overflow it.
const maxWait = 24 * time.Hour

// DefaultMaxClients is the default number of clients a RateLimiter tracks.
const DefaultMaxClients = 10_000

// RateLimitConfig configures a RateLimiter: a token bucket of Rate events
// per second and Burst events per client IP.
type RateLimitConfig struct {
	Rate       rate.Limit // events per second per client; must be positive (rate.Inf: no limit)
	Burst      int        // bucket size; at least 1 unless Rate is rate.Inf
	MaxClients int        // 0: DefaultMaxClients; memory stays bounded by it

	Now func() time.Time // nil: time.Now
}

// A RateLimiter limits requests per client IP with one token bucket
// (golang.org/x/time/rate) each. The client is the allowlist's Decision in
// the request context, else the peer address; IPv6 clients are limited per
// /64, the block one subscriber usually holds.
//
// Memory is bounded by MaxClients. When the table is full, a newcomer takes
// the place of a client whose bucket has refilled, found among the least
// recently seen few, which loses nothing: a full bucket is a fresh one.
// When none has, newcomers share one overflow bucket instead of evicting
// anyone, so a flood of new addresses cannot push a client's bucket out and
// reset it.
//
// A RateLimiter is safe for concurrent use. Only [NewRateLimiter] makes a
// usable one: the zero value admits nothing (its Handler answers 503).
type RateLimiter struct {
	limit rate.Limit
	burst int
	max   int
	now   func() time.Time

	mu sync.Mutex
	// The clients, by clientKey: IPv4 addresses in one table, IPv6 /64s in
	// the other, so that each is keyed by a plain uint64.
	clients4, clients6 map[uint64]*client
	lru                client // sentinel of a circular list: lru.next is the most recent
	overflow           *rate.Limiter
}

type client struct {
	key        clientID
	bucket     *rate.Limiter
	prev, next *client
}

// NewRateLimiter validates cfg and returns a rate limiter.
func NewRateLimiter(cfg RateLimitConfig) (*RateLimiter, error) {
	switch {
	case math.IsNaN(float64(cfg.Rate)) || cfg.Rate <= 0:
		return nil, fmt.Errorf("middleware: RateLimitConfig.Rate %v must be positive", cfg.Rate)
	case cfg.Burst < 1 && cfg.Rate != rate.Inf:
		return nil, fmt.Errorf("middleware: RateLimitConfig.Burst %d must be at least 1", cfg.Burst)
	case cfg.MaxClients < 0:
		return nil, fmt.Errorf("middleware: RateLimitConfig.MaxClients %d is negative", cfg.MaxClients)
	}
	l := &RateLimiter{limit: cfg.Rate, burst: cfg.Burst, max: cfg.MaxClients, now: cfg.Now}
	if l.max == 0 {
		l.max = DefaultMaxClients
	}
	if l.now == nil {
		l.now = time.Now
	}
	l.clients4 = make(map[uint64]*client)
	l.clients6 = make(map[uint64]*client)
	l.lru.next, l.lru.prev = &l.lru, &l.lru
	l.overflow = rate.NewLimiter(l.limit, l.burst)
	return l, nil
}

// Handler returns a handler that answers a client over its limit with 429
// and a Retry-After of whole seconds, rounded up, and passes the others to
// next.
func (l *RateLimiter) Handler(next http.Handler) http.Handler {
	return LimitHandler(l, nil, next) // Take never fails: nothing to log
}

// Take implements ClientLimiter. It fails only for a RateLimiter that
// NewRateLimiter did not make (ErrNotConfigured): the request is then
// refused with 503.
func (l *RateLimiter) Take(_ context.Context, client netip.Addr) (bool, time.Duration, error) {
	if l.clients4 == nil {
		return false, 0, ErrNotConfigured
	}
	wait, ok := l.Allow(client)
	return ok, wait, nil
}

// Allow takes a token for the client ip. If none is left it reports false
// and how long until one is. The zero RateLimiter admits nothing.
func (l *RateLimiter) Allow(ip netip.Addr) (wait time.Duration, ok bool) {
	if l.clients4 == nil {
		return maxWait, false // not made by NewRateLimiter: fail closed
	}
	if l.limit == rate.Inf {
		return 0, true
	}
	key := clientKey(ip)
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	bucket := l.bucket(key, now)
	if bucket.AllowN(now, 1) {
		return 0, true
	}
	seconds := (1 - bucket.TokensAt(now)) / float64(l.limit)
	return time.Duration(math.Min(seconds, maxWait.Seconds()) * float64(time.Second)), false
}

// bucket returns key's bucket, making room for a newcomer if it can.
func (l *RateLimiter) bucket(key clientID, now time.Time) *rate.Limiter {
	table := l.table(key)
	if c, ok := table[key.bits]; ok {
		l.moveToFront(c)
		return c.bucket
	}
	if len(l.clients4)+len(l.clients6) < l.max {
		c := &client{key: key, bucket: rate.NewLimiter(l.limit, l.burst)}
		table[key.bits] = c
		l.pushFront(c)
		return c.bucket
	}
	// A full bucket is as good as new: hand the first one found among the
	// least recently seen clients, who have had the longest to refill, to
	// the newcomer. The scan is bounded; past it, newcomers share the
	// overflow bucket, and no client whose bucket is not full is evicted.
	for c, n := l.lru.prev, 0; c != &l.lru && n < evictionScan; c, n = c.prev, n+1 {
		if c.bucket.TokensAt(now) >= float64(l.burst) {
			delete(l.table(c.key), c.key.bits)
			c.key = key
			table[key.bits] = c
			l.moveToFront(c)
			return c.bucket
		}
	}
	return l.overflow
}

// evictionScan is how many of the least recently seen clients a newcomer
// may look through for a full bucket when the table is full.
const evictionScan = 8

// Len returns the number of clients tracked.
func (l *RateLimiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients4) + len(l.clients6)
}

// table returns the table that holds key.
func (l *RateLimiter) table(key clientID) map[uint64]*client {
	if key.v6 {
		return l.clients6
	}
	return l.clients4
}

func (l *RateLimiter) pushFront(c *client) {
	c.prev, c.next = &l.lru, l.lru.next
	c.next.prev = c
	l.lru.next = c
}

func (l *RateLimiter) moveToFront(c *client) {
	if l.lru.next == c {
		return
	}
	c.prev.next, c.next.prev = c.next, c.prev
	l.pushFront(c)
}

// A clientID is the client a bucket belongs to: an IPv4 address, or the
// first 64 bits of an IPv6 address.
type clientID struct {
	bits uint64
	v6   bool
}

// invalidClient is the client of every request whose address is not valid:
// a key no IPv4 address has, as those fit in 32 bits.
var invalidClient = clientID{bits: 1 << 32}

// clientKey normalises an address (IPv4-mapped IPv6 is IPv4; zones do not
// count) and widens IPv6 to its /64.
func clientKey(ip netip.Addr) clientID {
	ip = ip.Unmap()
	switch {
	case ip.Is4():
		a := ip.As4()
		return clientID{bits: uint64(binary.BigEndian.Uint32(a[:]))}
	case ip.Is6():
		a := ip.As16()
		return clientID{bits: binary.BigEndian.Uint64(a[:8]), v6: true}
	}
	return invalidClient
}

// retryAfterSeconds rounds wait up to whole seconds, at least 1.
func retryAfterSeconds(wait time.Duration) int64 {
	s := int64((wait + time.Second - 1) / time.Second)
	if s < 1 {
		return 1
	}
	return s
}
