// Package redisstore keeps the callback guard's replay defence and rate
// limit in Redis, so that several instances of a receiver behind a load
// balancer share them. With the in-memory defaults, a replay sent to the
// instance that did not see the first delivery would get through, and each
// instance would grant the full rate limit on its own.
//
// ReplayStore implements middleware.ReplayStore with the in-memory store's
// exact semantics (checked by the same suite, middleware/replaytest), and
// Limiter implements middleware.ClientLimiter with the in-memory limiter's
// 429 and Retry-After. Each operation is one Lua script on one key, atomic
// in Redis, so instances racing on one delivery cannot both pass it. Keys
// start with a configurable prefix and expire on their own. A replay key
// lives for twice the tolerance and a second; a limiter key until its
// bucket would be full again (Burst/Rate, at most MaxRefill), one per
// client IPv4 address or IPv6 /64, so their number is bounded by the
// clients the allowlist in front admits.
//
// Setup, with a client that honours context deadlines:
//
//	client := redis.NewClient(&redis.Options{Addr: "redis:6379", ContextTimeoutEnabled: true})
//	store, err := redisstore.NewReplayStore(client, redisstore.ReplayConfig{})
//	limiter, err := redisstore.NewLimiter(client, redisstore.LimiterConfig{Rate: 10, Burst: 20})
//	guard, err := middleware.NewGuard(middleware.GuardConfig{
//		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
//		Limiter:   limiter,
//		Callback:  middleware.CallbackConfig{Keyring: keyring, Replay: store},
//	})
//
// # Failures
//
// Every call to Redis is bounded by the configured Timeout (1 s by default)
// and by the request's context. When Redis is down or slow the guard fails
// closed: it answers 503 and logs the error at Error, and Smile ID retries
// the callback later. LimiterConfig.FailOpen lets requests past the rate
// limit instead; the replay store has no such option, as a replay let
// through cannot be taken back.
//
// # Redis
//
// Redis 5 or later (Lua scripts that call TIME), standalone, Sentinel,
// Cluster or Ring: each script touches one key. A Redis restarted without
// persistence forgets the deliveries of the last minutes, so a replay of
// one of them would be accepted again: run it with AOF (appendonly yes) or
// a replica if that matters. The instances' clocks must agree to within a
// second (NTP): replay entries expire by the verifier's clock, their keys by
// Redis's. The rate limit uses Redis's clock alone.
package redisstore
