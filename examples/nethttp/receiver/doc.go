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
//	SMILEID_PARTNER_ID                    your Smile ID partner id, as given ("085" is not "85"); required
//	SMILEID_PRODUCTION_API_KEY            the production API key
//	SMILEID_SANDBOX_API_KEY               the sandbox API key; at least one of the two is required
//	SMILEID_PRODUCTION_API_KEY_PREVIOUS   the production key you are rotating away from, while
//	SMILEID_SANDBOX_API_KEY_PREVIOUS      callbacks for older jobs may still be signed with it (optional)
//	SMILEID_ENVIRONMENTS                  "production", "sandbox" or "production,sandbox": the environments
//	                                      to accept callbacks from; default: those with a key. Each one
//	                                      needs its key, and a key of an environment not listed is an error
//	SMILEGUARD_TRUSTED_PROXIES            comma-separated IPs and CIDRs of your load balancers or reverse
//	                                      proxies; default: none, the peer address is the client
//	SMILEGUARD_FORWARDED_HEADER           the header those proxies write: X-Forwarded-For (the default
//	                                      when proxies are set), Forwarded, or a one-address header such
//	                                      as X-Real-IP; must be unset without proxies
//	SMILEGUARD_LISTEN                     host:port to listen on; default ":8080"
//	SMILEGUARD_RATE                       requests per second per client IP; default 20
//	SMILEGUARD_BURST                      requests a client IP may send at once; default 40
//
// The callbacks of each environment are admitted only from the addresses
// Smile ID publishes for it (allowlist.SmileIDProduction,
// allowlist.SmileIDSandbox), and only with that environment's keys.
//
// The listen address defaults to every interface because the receiver
// exists to be reached, by Smile ID or by your proxy on another host or
// container; the Guard, not the bind address, decides who is admitted.
//
// Start-up errors list every bad variable by name at once and never print
// a key.
package receiver
