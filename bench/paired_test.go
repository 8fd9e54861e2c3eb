package bench

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"
)

// pairedBlockBytes is about how many body bytes one block of a paired
// benchmark sends: 128 deliveries of 2 KB, one of 1.5 MB, a millisecond
// or two either way, short enough that the load of the machine's other
// tenants barely moves within a pair of blocks.
const pairedBlockBytes = 256 << 10

// pairedGroups is how many means BenchmarkGuardOverFloor's median of
// means takes the median of: each the mean of as many pairs of blocks as
// the run has, over pairedGroups.
const pairedGroups = 16

// BenchmarkGuardOverFloor sends fresh 2 KB and 1.5 MB callbacks to the
// whole Guard and to the floor in turns, a block of deliveries each (about
// a millisecond), in the harness of BenchmarkCallback (a request and
// recorder each, stores warmed the same way), and reports the guard's time
// over the floor's: "guard/floor-wall" and "guard/floor-cpu" (the thread's
// CPU time). Blocks a millisecond apart meet the same load from the
// machine's other tenants, which BenchmarkCallback's runs, a second or
// more apart, do not: the ratio holds from run to run where theirs swings.
// Each ratio is a median of means: the ratio of the sums over each of
// pairedGroups groups of consecutive pairs of blocks, and the median of
// those. The
// sums keep the Guard's skew (now and then a delivery allocates fresh
// memory for its body and costs several times the others), which a median
// of single blocks would drop; the median over groups drops the rare
// group that another tenant's burst fell on, which a ratio of the sums
// over the whole run would keep. Each side's time per delivery is reported too
// ("floor-ns/op", "guard-cpu-ns/op", ...); ns/op is one delivery to each,
// and so are B/op and allocs/op.
//
// The process's CPU time is not reported: the garbage collector's
// background work, which the Guard's allocations cause, lands on whichever
// block runs meanwhile. BenchmarkCallback's process CPU column has it.
func BenchmarkGuardOverFloor(b *testing.B) {
	for _, guard := range []struct {
		suffix string
		c      func(testing.TB, *benchClock, http.Handler) http.Handler
	}{
		{"", smileguardGuard},
		{"-reused-bodies", smileguardGuardReusingBodies}, // CallbackConfig.ReuseBodyBuffers, the opt-in
	} {
		benchmarkGuardOverFloor(b, guard.suffix, guard.c)
	}
}

func benchmarkGuardOverFloor(b *testing.B, suffix string, guard func(testing.TB, *benchClock, http.Handler) http.Handler) {
	for _, size := range callbackSizes {
		b.Run(size.name+suffix, func(b *testing.B) {
			clock := &benchClock{}
			in := newCallbackInput(b, false, size.bytes, clock)
			var handlers [2]http.Handler // floor, guard
			var nexts [2]*countingHandler
			for i, c := range []func(testing.TB, *benchClock, http.Handler) http.Handler{floorContender, guard} {
				nexts[i] = &countingHandler{}
				handlers[i] = c(b, clock, nexts[i])
			}
			block := max(1, pairedBlockBytes/len(in.body))
			group := max(1, (b.N+block-1)/block/pairedGroups) // pairs of blocks
			warm := min(b.N, liveDeliveries)
			send := func(h http.Handler, n int) {
				for range n {
					if !in.fresh.signed() {
						in.fresh.sign(pairsPerBatch)
					}
					in.fresh.next()
					w := httptest.NewRecorder()
					h.ServeHTTP(w, in.request())
					if w.Code != http.StatusOK {
						b.Fatalf("answered %d: %s", w.Code, w.Body)
					}
				}
			}
			for warmed := 0; warmed < warm; warmed += block {
				send(handlers[0], min(block, warm-warmed))
				send(handlers[1], min(block, warm-warmed))
			}
			in.fresh.sign(pairsPerBatch)

			var wall, cpu [2]time.Duration           // floor, guard: the whole run's
			var groupWall, groupCPU [2]time.Duration // the current group's
			var wallRatios, cpuRatios []float64      // the groups'
			endGroup := func() {
				wallRatios = append(wallRatios, float64(groupWall[1])/float64(groupWall[0]))
				if groupCPU[0] > 0 {
					cpuRatios = append(cpuRatios, float64(groupCPU[1])/float64(groupCPU[0]))
				}
				groupWall, groupCPU = [2]time.Duration{}, [2]time.Duration{}
			}
			b.SetBytes(int64(2 * len(in.body)))
			b.ReportAllocs()
			b.ResetTimer()
			meter := startCPU()
			for done, pair := 0, 0; done < b.N; pair++ {
				n := min(block, b.N-done)
				if 2*n > len(in.fresh.pairs)-in.fresh.used {
					meter.pause()
					b.StopTimer()
					in.fresh.sign(pairsPerBatch)
					b.StartTimer()
					meter.resume()
				}
				for _, side := range [2][2]int{{0, 1}, {1, 0}}[pair%2] {
					start := time.Now()
					cpuAt, _ := threadCPU()
					send(handlers[side], n)
					cpuTo, _ := threadCPU()
					blockWall, blockCPU := time.Since(start), cpuTo-cpuAt
					wall[side], groupWall[side] = wall[side]+blockWall, groupWall[side]+blockWall
					cpu[side], groupCPU[side] = cpu[side]+blockCPU, groupCPU[side]+blockCPU
				}
				if pair%group == group-1 {
					endGroup()
				}
				done += n
			}
			b.StopTimer()
			meter.report(b)
			for i, next := range nexts {
				if next.calls != warm+b.N {
					b.Fatalf("%d of %d callbacks reached the handler of side %d", next.calls, warm+b.N, i)
				}
			}
			if len(wallRatios) == 0 {
				endGroup() // too short a run for a group: the run is one
			}
			b.ReportMetric(medianOf(wallRatios), "guard/floor-wall")
			b.ReportMetric(float64(wall[0].Nanoseconds())/float64(b.N), "floor-ns/op")
			b.ReportMetric(float64(wall[1].Nanoseconds())/float64(b.N), "guard-ns/op")
			if meter.ok && len(cpuRatios) > 0 {
				b.ReportMetric(medianOf(cpuRatios), "guard/floor-cpu")
				b.ReportMetric(float64(cpu[0].Nanoseconds())/float64(b.N), "floor-cpu-ns/op")
				b.ReportMetric(float64(cpu[1].Nanoseconds())/float64(b.N), "guard-cpu-ns/op")
			}
		})
	}
}

func medianOf(values []float64) float64 {
	s := slices.Clone(values)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
