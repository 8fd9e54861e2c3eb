// Package memtest measures what tests bound: the bytes a call allocates.
package memtest

import "runtime"

// BytesPerCall returns the bytes f allocates per call, on average over n
// calls. It counts every allocation of the process meanwhile, so it is
// meant for tests that do not run in parallel with others.
func BytesPerCall(n int, f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < n; i++ {
		f()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(n)
}
