package load

import (
	"syscall"
	"time"
)

// processCPU returns the CPU time, user and system, that every thread of
// the process has used: the servers', the clients' and the runtime's.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
