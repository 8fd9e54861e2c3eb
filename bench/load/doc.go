// Package load holds the load test of the callback receiver of
// examples/nethttp, the measurement of what its guard costs in
// throughput, a fault test of the smileguard proxy and a measurement of
// same-millisecond twins. All are tests only, and run only when asked:
//
//	go test -run TestLoad -v ./bench/load -load
//	go test -run TestOverhead -v ./bench/load -overhead
//	go test -run TestLoadFaults -v ./bench/load -load-faults
//	go test -run TestTwinRate -v ./bench/load -twins
//
// TestLoad: for 20 seconds, 200 clients on loopback send genuine callbacks
// and every kind of hostile one, then the test checks that each genuine
// callback was handled exactly once, no other was handled at all, no
// request got a 5xx or a reset, the heap stayed bounded and every
// goroutine ended.
//
// TestOverhead: the receiver's routes and server with the guard and
// without it, in alternation, each sent genuine callbacks, every one a new
// delivery, by 50 and then 200 clients; it reports the throughput of each
// and the share the guard costs (-overhead-rounds, -overhead-duration).
//
// TestLoadFaults (Unix; needs redis-server, and skips without it unless
// SMILEGUARD_REQUIRE_REDIS is set): the smileguard command, built from
// the workspace, runs as two proxy processes sharing a redis-server in
// front of one upstream, for 20 seconds of genuine and hostile traffic
// from 100 clients that retry each genuine callback as Smile ID does;
// one proxy is killed (SIGKILL) at 6 s, and Redis is stopped (SIGSTOP)
// for 2 s at 12 s. The test checks that every genuine callback was
// completed by the upstream and acknowledged, that nothing hostile reached
// the upstream, that Redis remembers every delivered callback as handled,
// and that a callback was handled twice only in the window the lease
// allows: forwarded by the killed proxy, which died before answering, and
// again by the survivor a lease later. It reports how many were, with the
// answers by status and the retries needed (-load-faults-logs keeps the
// proxies' logs). About 25 seconds and the build.
//
// TestTwinRate: one key's genuine callbacks at Poisson arrivals of 10 and
// then 100 a second, each signed on the real clock when sent, go to a
// guard without a Confirmer and to one whose Confirmer asks a fake Smile
// ID. It counts the twins (callbacks signed in a millisecond an earlier one
// was signed in), checks that the first guard refused exactly them and the
// second lost none, and reports the fraction measured beside the one
// Poisson arrivals give, and the twins a day at 10 a second
// (-twins-duration, 12 s a rate by default).
package load
