package bench

import (
	"runtime"
	"testing"
	"time"
)

// A cpuMeter adds up the CPU time a benchmark's timed stretches use, of
// its goroutine's thread and of the whole process, and reports both per
// operation beside the wall time go test measures: the machines these
// benchmarks run on are shared, and wall time swings several times over
// with the other tenants' load, while a thread's CPU time counts only its
// own work.
//
// The thread's figure counts everything done on the benchmark's goroutine,
// which is all of a handler's own work (the handlers measured here start
// no goroutine), and the garbage collector's assists charged to it. It
// leaves out the collector's background workers, which run on other
// threads: a contender that allocates more has part of its cost there.
// The process's figure counts those too, and the runtime's other threads,
// so it is the fuller and the noisier of the two.
type cpuMeter struct {
	thread, process time.Duration // used in the stretches measured so far
	threadAt        time.Duration // readings at the start of the current stretch
	processAt       time.Duration
	ok              bool
}

// startCPU locks the calling goroutine to its thread, so that the thread's
// readings are the goroutine's, and starts the first stretch. Call it right
// after b.ResetTimer, and report once the loop is done.
func startCPU() *cpuMeter {
	runtime.LockOSThread()
	m := &cpuMeter{ok: true}
	m.resume()
	return m
}

// pause ends the current stretch, as b.StopTimer does for wall time.
func (m *cpuMeter) pause() {
	thread, ok1 := threadCPU()
	process, ok2 := processCPU()
	m.ok = m.ok && ok1 && ok2
	m.thread += thread - m.threadAt
	m.process += process - m.processAt
}

// resume starts a new stretch, as b.StartTimer does for wall time.
func (m *cpuMeter) resume() {
	var ok1, ok2 bool
	m.threadAt, ok1 = threadCPU()
	m.processAt, ok2 = processCPU()
	m.ok = m.ok && ok1 && ok2
}

// report ends the last stretch, unlocks the goroutine from its thread and
// reports "cpu-ns/op" (the thread's) and "proc-cpu-ns/op" (the process's),
// or nothing where the system cannot tell a thread's CPU time.
//
// A run of a few iterations (go test -benchtime=1x) reports a figure that
// means little, as its wall time does.
func (m *cpuMeter) report(b *testing.B) {
	m.pause()
	runtime.UnlockOSThread()
	if !m.ok || b.N == 0 {
		return
	}
	b.ReportMetric(float64(m.thread.Nanoseconds())/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(m.process.Nanoseconds())/float64(b.N), "proc-cpu-ns/op")
}
