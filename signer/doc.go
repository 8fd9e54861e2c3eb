// Package signer implements Smile ID's request signature, the timestamps
// that go with it, a keyring that verifies signatures against several API
// keys per environment, and a [Transport] that authenticates outgoing
// requests.
//
// The signature is
//
//	base64(HMAC-SHA256(key = api_key, message = timestamp + partner_id + "sid_request"))
//
// It covers the timestamp and the partner id, not the request body. A
// verified signature therefore proves only that someone who knows the key
// signed that timestamp; what makes a callback trustworthy is the rest of
// smileguard: the IP allowlist, the freshness window and one-time use of each
// (signature, timestamp) pair bound to its body (package middleware).
//
// [Sign] and [Verify] work with one key. A [Keyring] holds every key a
// receiver accepts, each with its environment and validity window, so a key
// can be rotated while callbacks for older jobs, still signed with the old
// key, keep verifying until its NotAfter. [Keyring.Verify] precomputes each
// key's HMAC state and does not allocate.
//
// Smile ID asks for API keys to be rotated every 90 days or sooner, one key
// per integration (mobile apart from server-to-server), sandbox and
// production never mixed. [Key.CreatedAt] and [Keyring.Review] report keys
// due for rotation or about to expire (a Transport with a Logger logs its
// own Key once); [LoadKeysFile] and [LoadKeysEnv] read keys from a file
// only their owner can read or from environment variables, and [CheckKeys]
// refuses one secret under two IDs or a value that names the other
// environment.
//
// # Rotating a key
//
// Smile ID signs each callback with the key of the job that caused it, so
// after a rotation callbacks for older jobs still arrive signed with the
// old key. A [Keyring] accepts both until the old key's NotAfter:
//
//  1. Create the new key in the Smile ID portal and add it beside the old
//     one (in the key file or the environment), with its created_at.
//  2. Deploy: callbacks signed with either key verify.
//  3. Move the integrations (your [Transport], your mobile app) to the new
//     key. New jobs' callbacks arrive signed with it.
//  4. Set not_after on the old key and deploy, leaving time for the
//     callbacks of the last jobs sent with it (jobs under human review can
//     take days). Until then [Keyring.Review] reports the key as expiring;
//     from then on it verifies nothing.
//  5. Remove the old key, deploy, and revoke it in the Smile ID portal.
//
// [Keyring.Replace] swaps the keys of a running process at once. The
// guard's per-key metrics (package middleware/prommetrics) show when the
// old key has stopped signing callbacks.
//
// [ParseTimestamp] reads every timestamp style the official SDKs send;
// [FormatTimestamp] writes the one Smile ID documents. A signature is always
// checked against the timestamp string exactly as received.
//
// [Transport] authenticates the requests bound for Smile ID's hosts: v1
// paths signed in the body, v3 paths with a token, every other path signed
// in the headers; it can verify the signature of the answers too.
//
// No error of this package holds an API key, a token or a whole
// signature, or quotes the value of a key's field, which may be a secret
// pasted in the wrong place; errors name keys by their ID, a label. A
// [Key] prints its APIKey redacted wherever its methods can be called; see
// [Key] for where they cannot.
package signer
