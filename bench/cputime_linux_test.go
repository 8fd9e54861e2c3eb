package bench

import (
	"syscall"
	"time"
)

// rusageThread is Linux's RUSAGE_THREAD, which package syscall does not
// name: the usage of the calling thread alone.
const rusageThread = 1

// threadCPU returns the CPU time, user and system, that the calling thread
// has used. The caller must be locked to its thread (runtime.LockOSThread)
// for two readings to be of the same thread.
func threadCPU() (time.Duration, bool) { return rusage(rusageThread) }

// processCPU returns the CPU time, user and system, that every thread of
// the process has used: the garbage collector's workers included.
func processCPU() (time.Duration, bool) { return rusage(syscall.RUSAGE_SELF) }

func rusage(who int) (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
