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
// lives for twice the tolerance and a second (longer if the delivery's
// timestamp stays fresh longer on the verifier's clock); a limiter key
// until its bucket would be full again (Burst/Rate, at most MaxRefill),
// one per client IPv4 address or IPv6 /64, so their number is bounded by
// the clients the allowlist in front admits.
//
// A claimed delivery is a lease (10 s by default) that the verifier renews
// while the handler runs. When an instance dies mid-handler (a crash, an
// OOM kill, a deploy past its shutdown grace), or Redis ran a claim whose
// answer the verifier never got, or a handler's release was lost, the
// claim frees itself when the lease runs out, and Smile ID's next retry,
// to any instance, is processed. A late Renew or Finish from the attempt
// that lost its claim changes nothing and is logged. The trade-off: a
// handler that runs past its lease without renewal may see the delivery
// handled a second time by the retry that took it over; with renewal every
// third of the lease, that takes a stall of the instance (or of its way to
// Redis) longer than a whole lease.
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
// second (NTP): replay entries expire and leases end by the verifier's
// clock, their keys by Redis's. A verifier clock stepped back after a
// delivery was first seen (by more than a tolerance and a second) finds
// its key gone by Redis's clock: keep the instances' clocks from stepping
// (slew them). The rate limit uses Redis's clock alone.
//
// # Upgrading from v0.1
//
// Replay keys are those v0.1 wrote, and v0.1 reads this version's values
// (its scripts parse the lease end as a fraction of the expiry), so
// instances of both versions can share one Redis during a rolling deploy:
// each sees the other's claims, handled marks, releases and body bindings,
// with the same expiry. v0.1 knows no leases: it answers 409 for any claim
// until it is finished or expires, as it always did, and this version holds
// v0.1's claims so too, never taking one over (v0.1's Finish does not check
// claim tokens and would finish the new claim). Once every instance runs
// this version, every claim is a lease.
package redisstore
