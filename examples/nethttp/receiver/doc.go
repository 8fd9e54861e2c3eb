// Package receiver is a production-shaped Smile ID callback receiver on
// net/http: the smileguard Guard in front of POST /smileid/callback,
// configured from environment variables, served by an http.Server with
// timeouts and a graceful shutdown.
//
// The program in the parent directory runs it; a load test or your own
// main can build the same handler with NewHandler and serve it on any
// listener with Serve.
//
// # Environment variables
//
// The API keys, in either of two places (signer.LoadKeysEnv and
// signer.LoadKeysFile say more):
//
//	SMILEID_KEYS                     the IDs of the keys, comma-separated: "production-2026-11,sandbox-1"
//	SMILEID_<ID>_PARTNER_ID          for each key, its ID upper-cased, other than letters and digits made "_": your partner id
//	SMILEID_<ID>_API_KEY             the API key
//	SMILEID_<ID>_ENVIRONMENT         "production" or "sandbox"
//	SMILEID_<ID>_CREATED_AT          optional, RFC 3339: the key's age is then reviewed at start-up
//	SMILEID_<ID>_NOT_BEFORE          optional, RFC 3339: during a rotation, when the new key starts
//	SMILEID_<ID>_NOT_AFTER           optional, RFC 3339: during a rotation, when the old key ends
//	SMILEID_KEYS_FILE                instead of SMILEID_KEYS: a JSON key file, mode 0600
//
// Everything else is optional:
//
//	SMILEGUARD_TRUSTED_PROXIES       comma-separated IPs and CIDRs of your load balancers or reverse
//	                                 proxies; default: none, the peer address is the client
//	SMILEGUARD_FORWARDED_HEADER      the header those proxies write: X-Forwarded-For (the default
//	                                 when proxies are set), Forwarded, or a one-address header such
//	                                 as X-Real-IP; must be unset without proxies
//	SMILEGUARD_LISTEN                host:port to listen on; default ":8080"
//	SMILEGUARD_RATE                  requests per second per client IP; default 20
//	SMILEGUARD_BURST                 requests a client IP may send at once; default 40
//	SMILEGUARD_ALLOW_PRODUCTION      comma-separated IPs and CIDRs that replace Smile ID's published
//	                                 production callback addresses (allowlist.SmileIDProduction)
//	SMILEGUARD_ALLOW_SANDBOX         the same for the sandbox (allowlist.SmileIDSandbox)
//
// The environments of the keys are the ones whose callbacks are accepted:
// each only from the addresses Smile ID publishes for it
// (allowlist.SmileIDProduction, allowlist.SmileIDSandbox), or those
// SMILEGUARD_ALLOW_* give instead, and only with its own keys. The day
// Smile ID announces new addresses, set the variable and restart: no new
// release is needed. Each refused request is logged with the address it
// came from, so a change at Smile ID shows in the log at once.
//
// The listen address defaults to every interface because the receiver
// exists to be reached, by Smile ID or by your proxy on another host or
// container; the Guard, not the bind address, decides who is admitted.
//
// Start-up errors list every bad variable by name at once and never print
// a key.
package receiver
