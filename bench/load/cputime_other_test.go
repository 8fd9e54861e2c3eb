//go:build !linux

package load

import "time"

// processCPU is unsupported here: the overhead measurement then reports
// wall-clock throughput alone.
func processCPU() (time.Duration, bool) { return 0, false }
