package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/middleware"
)

// MaxRefill is the longest a Limiter's bucket may take to refill from empty
// (Burst / Rate): each client's key lives that long, and Redis's integer
// arithmetic stays exact.
const MaxRefill = 30 * 24 * time.Hour

// maxRate is the highest Rate the script can keep: it counts in
// microseconds, and times near 2^50 µs keep a quarter of one.
const maxRate = 1e6

// maxWait caps the wait Take reports, as middleware.RateLimiter does.
const maxWait = 24 * time.Hour

// LimiterConfig configures a Limiter: a token bucket of Rate events per
// second and Burst events per client, shared by every instance that uses
// the same Redis and Prefix.
type LimiterConfig struct {
	Prefix  string        // starts every key; "": DefaultPrefix
	Rate    rate.Limit    // events per second per client; must be positive (rate.Inf: no limit, Redis is not asked)
	Burst   int           // bucket size; at least 1 unless Rate is rate.Inf
	Timeout time.Duration // bounds each call to Redis; 0: DefaultTimeout

	// FailOpen admits a request when Redis fails or is slow, instead of
	// refusing it with 503. The callback verifier still checks it, but
	// its replay store (if it is this Redis too) is then down as well and
	// refuses it: failing open only trades the limit for availability
	// where the replay store lives elsewhere. Each admission is logged at
	// Error to Logger, which FailOpen therefore requires.
	FailOpen bool
	Logger   *slog.Logger // where FailOpen logs; nil: no logging (and FailOpen is refused)
}

// A Limiter is a middleware.ClientLimiter kept in Redis, so that several
// instances enforce one rate limit per client together. Set it as
// middleware.GuardConfig.Limiter in place of RateLimit; over the limit the
// guard answers 429 with Retry-After, as with the in-memory limiter.
//
// The bucket is a GCRA (generic cell rate algorithm), which is a token
// bucket kept as one number: the time at which the bucket will be full.
// One Lua script reads and updates it atomically with Redis's own clock, so
// instances whose clocks differ still share one limit. The client is
// counted as middleware.RateLimiter counts it: IPv4-mapped addresses as
// IPv4, IPv6 per /64. Its key, "<Prefix>rate:<address>", expires once the
// bucket has refilled, so Redis holds only the clients seen within the last
// Burst/Rate seconds. Behind the guard's allowlist those are Smile ID's own
// addresses.
//
// When Redis fails or is slow, Take returns an error that matches
// middleware.ErrLimiterUnavailable and the request is refused with 503,
// unless FailOpen is set.
//
// NewLimiter makes one; the zero value is not usable. A Limiter is safe for
// concurrent use.
type Limiter struct {
	conn
	unlimited bool
	interval  string // microseconds per event, for the script
	burst     int
	failOpen  bool
	logger    *slog.Logger
}

// NewLimiter validates cfg and returns a limiter that keeps its buckets in
// Redis through client. The client must be created with
// ContextTimeoutEnabled set, so that Timeout bounds each call.
func NewLimiter(client redis.UniversalClient, cfg LimiterConfig) (*Limiter, error) {
	c, err := newConn(client, cfg.Prefix, cfg.Timeout, "LimiterConfig")
	if err != nil {
		return nil, err
	}
	switch {
	case math.IsNaN(float64(cfg.Rate)) || cfg.Rate <= 0:
		return nil, fmt.Errorf("redisstore: LimiterConfig.Rate %v must be positive", cfg.Rate)
	case cfg.Rate == rate.Inf:
	case cfg.Rate > maxRate:
		return nil, fmt.Errorf("redisstore: LimiterConfig.Rate %v is over %v per second; rate.Inf is no limit", cfg.Rate, maxRate)
	case cfg.Burst < 1:
		return nil, fmt.Errorf("redisstore: LimiterConfig.Burst %d must be at least 1", cfg.Burst)
	case float64(cfg.Burst)/float64(cfg.Rate) > MaxRefill.Seconds():
		return nil, fmt.Errorf("redisstore: LimiterConfig.Burst/Rate, %d/%v, is over MaxRefill (%v)", cfg.Burst, cfg.Rate, MaxRefill)
	}
	if cfg.FailOpen && cfg.Logger == nil {
		return nil, errors.New("redisstore: LimiterConfig.FailOpen needs a Logger: requests admitted unchecked must be logged")
	}
	return &Limiter{
		conn:      c,
		unlimited: cfg.Rate == rate.Inf,
		interval:  strconv.FormatFloat(1e6/float64(cfg.Rate), 'g', -1, 64),
		burst:     cfg.Burst,
		failOpen:  cfg.FailOpen,
		logger:    cfg.Logger,
	}, nil
}

// takeScript is GCRA on one key. ARGV[1] is the emission interval and
// ARGV[2] the burst; times are microseconds on Redis's clock (TIME, which
// scripts may call since Redis 5 replicates their effects). The key holds
// the theoretical arrival time (TAT): when the bucket will be full again,
// which is also when the key may vanish. It answers {1, 0} when admitted,
// else {0, microseconds until a token is available}.
var takeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then
	tat = now
end
local next = tat + interval
local wait = next - interval * tonumber(ARGV[2]) - now
if wait > 0 then
	return {0, math.ceil(math.min(wait, 86400000000))}
end
redis.call('SET', KEYS[1], string.format('%.17g', next), 'PX', math.max(1, math.ceil((next - now) / 1000)))
return {1, 0}
`)

// Take implements middleware.ClientLimiter: it takes one token for client.
// It uses ctx, the request's, with the limiter's Timeout.
func (l *Limiter) Take(ctx context.Context, client netip.Addr) (ok bool, retryAfter time.Duration, err error) {
	if l.unlimited {
		return true, 0, nil
	}
	reply, err := l.run(ctx, takeScript, l.key(client), l.interval, l.burst).Int64Slice()
	if err == nil && len(reply) != 2 {
		err = fmt.Errorf("unexpected reply %v", reply)
	}
	if err != nil {
		err = &opError{op: "rate limit", sentinel: middleware.ErrLimiterUnavailable, err: err}
		if !l.failOpen {
			return false, 0, err
		}
		l.logger.LogAttrs(ctx, slog.LevelError, "smileguard: rate limiter unavailable, request admitted unchecked (FailOpen)",
			slog.String("error", err.Error()), slog.String("client_ip", client.String()))
		return true, 0, nil
	}
	if reply[0] == 1 {
		return true, 0, nil
	}
	return false, min(time.Duration(reply[1])*time.Microsecond, maxWait), nil
}

// Handler returns next behind the limit: middleware.LimitHandler with the
// limiter's Logger.
func (l *Limiter) Handler(next http.Handler) http.Handler {
	return middleware.LimitHandler(l, l.logger, next)
}

// key is the client's key: the prefix, "rate:" and the address, widened as
// middleware.RateLimiter widens it.
func (l *Limiter) key(client netip.Addr) string {
	client = client.Unmap().WithZone("")
	if client.Is6() {
		p, _ := client.Prefix(64)
		client = p.Addr()
	}
	buf := make([]byte, 0, len(l.prefix)+len("rate:")+len("ffff:ffff:ffff:ffff::"))
	buf = append(buf, l.prefix...)
	buf = append(buf, "rate:"...)
	return string(client.AppendTo(buf))
}
