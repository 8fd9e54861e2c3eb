// Package middleware guards an HTTP endpoint that receives Smile ID
// callbacks.
//
// Smile ID signs a callback with an HMAC over the timestamp and partner id,
// not over the body: whoever learns one (signature, timestamp) pair can
// attach any body to it until it goes stale. The guard therefore checks, in
// this order:
//
//  1. the client IP is one of Smile ID's (package allowlist);
//  2. if configured, the Authorization header carries one of the
//     credentials Smile ID was given to send (CallbackAuth: Basic or
//     Bearer, compared as SHA-256 digests in constant time);
//  3. the client is under its rate limit (RateLimiter);
//  4. the request is a POST of a JSON object no larger than MaxBodyBytes,
//     with top-level string members "signature" and "timestamp";
//  5. the timestamp is within Tolerance of now, in either direction;
//  6. the signature verifies with a usable key of the environment the
//     client IP belongs to (a sandbox key never admits a callback from a
//     production address);
//  7. the pair is used once, bound to the SHA-256 of its body (ReplayStore):
//     the same pair with another body is refused, the same delivery while
//     the first is still being handled gets 409, and one already handled
//     with a 2xx is acknowledged with 200 without being handled again.
//
// NewGuard composes all of it from one GuardConfig; CallbackVerifier,
// CallbackAuth and RateLimiter can also be used alone. At start-up the
// verifier logs each API key that is due for rotation or about to expire
// (signer.Keyring.Review). Every refusal is answered with a fixed status and
// a short plain-text reason, and logged at Warn but for the rate limit's
// 429s, which would flood the log as fast as they came; no response or log
// record ever contains an API key, a credential, a whole signature or a
// body.
//
// The next handler reads the exact bytes that arrived, with ContentLength and
// GetBody set, and finds the verified Callback with CallbackFromContext.
package middleware
