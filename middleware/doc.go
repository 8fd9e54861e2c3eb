// Package middleware guards an HTTP endpoint that receives Smile ID
// callbacks.
//
// Smile ID signs a callback with an HMAC over the timestamp and partner id,
// not over the body: whoever learns one (signature, timestamp) pair can
// attach any body to it until it goes stale. The guard therefore checks, in
// this order:
//
//  1. the client IP is one of Smile ID's (package [allowlist]);
//  2. if configured, the Authorization header carries one of the
//     credentials Smile ID was given to send ([CallbackAuth]);
//  3. the client is under its rate limit ([RateLimiter], or a shared
//     [ClientLimiter]);
//  4. the request is a POST of a JSON object no larger than
//     [CallbackConfig.MaxBodyBytes], signed in one of two carriers:
//     top-level string members "signature" and "timestamp" ([BodySigned],
//     v1 and v2), or the Response-Signature and Response-Timestamp headers
//     ([HeaderSigned], v3 webhooks);
//  5. the timestamp is within [CallbackConfig.Tolerance] of now, in either
//     direction;
//  6. the signature verifies with a usable key of the environment the
//     client's allowlist set is bound to ([allowlist.Set.Environment]), so
//     a sandbox key never admits a callback from a production address;
//  7. the pair is used once, bound to the SHA-256 of its body
//     ([ReplayStore]), whichever carrier brought it: the same pair with
//     another body is refused (unless a [Confirmer] vouches for it with
//     Smile ID), the same
//     delivery while the first is still being handled gets 409, and one
//     already handled with a 2xx is acknowledged with 200 without being
//     handled again.
//
// [NewGuard] composes all of it from one [GuardConfig] and runs it in one
// pass over the request; [CallbackVerifier], [CallbackAuth] and
// [RateLimiter] can also be used alone.
//
// # Answers
//
// Every refusal is a [*Refusal] carrying its HTTP status and a stable
// [ReasonCode], answered with a short plain-text reason (or by the one
// [GuardConfig.Rejected] handler, which learns why from [Reason]) and, with
// a [GuardConfig.Logger], logged at Warn: the first refusal from an address
// in each minute in full, at most 100 a minute in all, the others counted
// in summaries, so that a flood cannot fill a disk. Without a Logger,
// refusals are silent. No response or log record contains an API key, a
// credential, a whole signature or a body. An [Observer]
// ([GuardConfig.Observe]) is told of every decision, for metrics.
//
// # Never losing a genuine callback
//
// Smile ID retries a refused delivery only a few times, so the guard
// refuses nothing it cannot refuse safely, and acknowledges nothing that
// was not handled. The next handler reads the exact bytes that arrived,
// with ContentLength and GetBody set, and finds the verified [Callback] with
// [CallbackFromContext]; it answers 2xx once the callback is safely recorded,
// and any other answer (or a panic) releases the delivery so that the
// retry is processed.
//
// A delivery being handled is claimed in the replay store with a lease
// ([CallbackConfig.Lease], 10 s by default), renewed every third of a lease
// while the handler runs and its client waits. If the instance dies, is
// killed or freezes, or the store cannot be told that the handler is done,
// the claim lapses within a lease and Smile ID's retry, to any instance, is
// processed. The one trade-off: a handler that outlives its lease without
// renewal (its process frozen longer than a lease, or its client gone)
// may run again for the retry; renewal makes that need a stall longer than
// the lease, not merely a slow handler, and it is logged at Error. Make
// handlers idempotent on the job ID where a second run would hurt.
//
// Two genuine callbacks signed with one key in the same millisecond share
// a (signature, timestamp) pair, so the second looks like a tampered replay;
// without a [Confirmer] it is refused with 401 and lost once Smile ID stops
// retrying. [CallbackConfig.Confirm] (package middleware/confirm has ready
// ones) asks Smile ID about such a body and admits it when Smile ID's own
// answer matches.
package middleware
