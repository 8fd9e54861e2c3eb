package bench

import (
	"crypto/sha256"
	"testing"
)

// BenchmarkBodyBuffer isolates what keeps the Guard from the floor at
// 1.5 MB: the buffer a body is read into, fresh for each callback (the
// Guard's default) or one buffer reused (the floor, and the Guard with
// CallbackConfig.ReuseBodyBuffers). Each iteration copies a 1.5 MB body
// into the buffer and hashes it, the least a guard does with a body; the
// "faults/op" metric is the process's minor page faults per iteration,
// the pages the runtime gave back to the kernel and touches again.
func BenchmarkBodyBuffer(b *testing.B) {
	body := make([]byte, 1536<<10)
	for _, fresh := range []bool{true, false} {
		name := "reused"
		if fresh {
			name = "fresh"
		}
		b.Run(name, func(b *testing.B) {
			reused := make([]byte, len(body)+1)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			faultsAt, ok := minorFaults()
			b.ResetTimer()
			for range b.N {
				buf := reused
				if fresh {
					buf = make([]byte, len(body)+1) // room to read io.EOF, as bodyread does
				}
				copy(buf, body)
				bodyHashSink = sha256.Sum256(buf[:len(body)])
			}
			b.StopTimer()
			if faultsTo, _ := minorFaults(); ok {
				b.ReportMetric(float64(faultsTo-faultsAt)/float64(b.N), "faults/op")
			}
		})
	}
}

// bodyHashSink keeps BenchmarkBodyBuffer's hashes from being optimized
// away.
var bodyHashSink [sha256.Size]byte
