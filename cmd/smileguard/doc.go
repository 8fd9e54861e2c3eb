// Command smileguard guards the endpoint that receives Smile ID callbacks,
// whatever the receiver is written in, and helps to debug and test one.
//
//	go install github.com/smileguard/smileguard/cmd/smileguard@latest
//
// Its commands:
//
//	smileguard proxy    guard the callback path(s) and forward admitted callbacks to an upstream
//	smileguard verify   explain, check by check, whether the guard would admit a captured callback
//	smileguard sign     sign a callback (or a sample one) and print it or POST it to a receiver
//	smileguard keys check FILE   review a key file: age, expiry, duplicates, permissions
//	smileguard version
//
// Each command's --help lists its flags and examples. Flags may be written
// -flag or --flag; those of the proxy (and the configuration flags of the
// other commands) can also be set by environment variables, SMILEGUARD_
// and the flag's name upper-cased with '-' as '_' (--redis-url is
// SMILEGUARD_REDIS_URL); the command line wins. Configuration errors name
// the flag, or the variable that set it, and the command exits with status
// 2 before it serves anything.
//
// # In front of an app
//
// The proxy runs the smileguard Guard (package middleware) in front of an
// app that knows nothing of signatures: Smile ID's addresses only, each
// bound to its environment's keys, an optional credential check, a rate
// limit per client, then the signature, a freshness window of five minutes
// either way and one-time use of each (signature, timestamp) pair bound to
// its body. An admitted callback goes to the upstream with the exact body
// and headers it came with, plus Smileguard-Key-Id, Smileguard-Environment
// and Smileguard-Format (any Smileguard-* header a client sent is removed
// first), and X-Forwarded-For set to the admitted client. The upstream's
// answer goes back to Smile ID: a 2xx marks the delivery handled, so that
// Smile ID's retry is acknowledged with 200 and not forwarded again;
// anything else, or an upstream that is down (502) or too slow (504),
// releases the delivery so that the retry is forwarded. When Smile ID hangs
// up while the upstream works, the upstream's answer still decides.
//
// A key file (mode 600):
//
//	{"keys": [
//	  {"id": "production-2026-11", "partner_id": "1622", "environment": "production",
//	   "api_key": "…", "created_at": "2026-11-02T09:00:00Z"}
//	]}
//
// A small Node app on port 3000 that trusts the proxy in front of it:
//
//	// app.js: node app.js
//	const http = require("http");
//	http.createServer((req, res) => {
//	  if (req.method !== "POST" || req.url !== "/smileid/callback") { res.writeHead(404).end(); return; }
//	  let body = "";
//	  req.on("data", (chunk) => (body += chunk));
//	  req.on("end", () => {
//	    const result = JSON.parse(body);
//	    console.log("callback", req.headers["smileguard-environment"], req.headers["smileguard-key-id"],
//	      result.ResultCode ?? result.status);
//	    res.writeHead(200).end("ok"); // 2xx only once the result is stored: anything else brings the retry
//	  });
//	}).listen(3000, "127.0.0.1");
//
// The proxy in front of it, on the port Smile ID's callbacks reach, with
// the admin endpoints on loopback:
//
//	smileguard proxy \
//	    --keys-file /etc/smileguard/keys.json \
//	    --upstream http://127.0.0.1:3000 \
//	    --listen :8080 --admin-listen 127.0.0.1:9090
//
// The app must listen where only the proxy can reach it (here loopback):
// anything that can reach the app directly can skip the guard. Behind a
// load balancer, add --trusted-proxies with its addresses; with several
// replicas, --redis-url so that they share the replay defence and the rate
// limit; for HTTPS without a terminating proxy, --tls-cert and --tls-key.
//
// Before Smile ID sends anything, exercise the whole chain locally: a proxy
// that takes sandbox callbacks from this machine, and a signed sample
// callback posted to it, as Smile ID would send it:
//
//	smileguard proxy --keys-file keys.json --allow-sandbox 127.0.0.1 \
//	    --upstream http://127.0.0.1:3000 --listen 127.0.0.1:8080 &
//	smileguard sign --keys-file keys.json --key sandbox-1 --format header \
//	    --post http://127.0.0.1:8080/smileid/callback
//
// # Operating it
//
// Logs are JSON lines on standard output: each forwarded callback at Info,
// each refusal at Warn with the client's address and the reason (sampled:
// the first from an address each minute), failures of the upstream or of
// Redis at Error. No log line holds an API key, a credential, a whole
// signature or a body. The admin listener answers GET /healthz, GET /readyz
// (503 while shutting down, when an accepted environment has no usable key,
// or when Redis does not answer) and GET /metrics for Prometheus.
//
// SIGHUP reloads the keys and the TLS certificate without a restart; a key
// source that fails to load, or that leaves an accepted environment without
// a usable key, changes nothing and is logged at Error. SIGTERM (or SIGINT)
// stops accepting, lets in-flight callbacks finish within --shutdown-grace
// (25 s), and exits 0; 1 if the grace period ran out.
//
// # Debugging
//
// verify explains why a captured callback would be admitted or refused,
// check by check, and ends with the verdict of a Guard configured as the
// proxy is; with --timestamp and --signature it explains an outbound
// request's signature instead, for Smile ID's 2204/2205 answers. keys check
// reviews a key file against Smile ID's rotation advice.
package main
