// Package load holds the load test of the callback receiver of
// examples/nethttp, and the measurement of what its guard costs in
// throughput. Both are tests only, and run only when asked:
//
//	go test -run TestLoad -v ./bench/load -load
//	go test -run TestOverhead -v ./bench/load -overhead
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
package load
