package bench

import (
	"syscall"
	"time"
	"unsafe"
)

// Linux's CPU-time clocks, which package syscall does not name.
const (
	clockProcessCPUTime = 2 // CLOCK_PROCESS_CPUTIME_ID
	clockThreadCPUTime  = 3 // CLOCK_THREAD_CPUTIME_ID
)

// threadCPU returns the CPU time, user and system, that the calling thread
// has used. The caller must be locked to its thread (runtime.LockOSThread)
// for two readings to be of the same thread.
//
// It is the figure getrusage(RUSAGE_THREAD) reports, read from the
// thread's CPU clock instead: getrusage adds a running thread's time only
// at the scheduler's ticks (4 ms here), so that a millisecond's work often
// reads as none, while the clock includes the time since the last tick.
func threadCPU() (time.Duration, bool) { return cpuClock(clockThreadCPUTime) }

// processCPU returns the CPU time, user and system, that every thread of
// the process has used: the garbage collector's workers included.
func processCPU() (time.Duration, bool) { return cpuClock(clockProcessCPUTime) }

func cpuClock(clock uintptr) (time.Duration, bool) {
	var ts syscall.Timespec
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clock, uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		return 0, false
	}
	return time.Duration(ts.Nano()), true
}

// minorFaults returns how many minor page faults the process has taken:
// first touches of pages the kernel must zero and map.
func minorFaults() (int64, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return ru.Minflt, true
}
