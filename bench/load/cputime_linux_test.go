package load

import (
	"syscall"
	"time"
	"unsafe"
)

// clockProcessCPUTime is Linux's CLOCK_PROCESS_CPUTIME_ID, which package
// syscall does not name.
const clockProcessCPUTime = 2

// processCPU returns the CPU time, user and system, that every thread of
// the process has used: the servers', the clients' and the runtime's. It
// reads the process's CPU clock, which counts a running thread's time to
// the nanosecond, where getrusage adds it at the scheduler's ticks.
func processCPU() (time.Duration, bool) {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockProcessCPUTime, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}
