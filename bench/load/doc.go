// Package load holds the load test of the callback receiver of
// examples/nethttp. It is a test only, and it runs only when asked:
//
//	go test -run TestLoad -v ./bench/load -load
//
// For 20 seconds, 200 clients on loopback send genuine callbacks and every
// kind of hostile one, then the test checks that each genuine callback was
// handled exactly once, no other was handled at all, no request got a 5xx
// or a reset, the heap stayed bounded and every goroutine ended.
package load
