//go:build !linux

package bench

import "time"

// threadCPU is unsupported here: the benchmarks then report no CPU time.
func threadCPU() (time.Duration, bool) { return 0, false }

// processCPU is unsupported here, as threadCPU is.
func processCPU() (time.Duration, bool) { return 0, false }

// minorFaults is unsupported here: BenchmarkBodyBuffer then reports none.
func minorFaults() (int64, bool) { return 0, false }
