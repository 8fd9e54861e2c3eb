package middleware_test

import (
	"context"
	"encoding/binary"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/replaytest"
)

func TestMemoryReplayStoreConformance(t *testing.T) {
	replaytest.Run(t, func(t *testing.T) middleware.ReplayStore {
		store, err := middleware.NewMemoryReplayStore(10)
		require.NoError(t, err)
		return store
	})
}

// benchNow is the benchmarks' clock, injected as a verifier's Now may be.
var benchNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const (
	benchTTL   = 10*time.Minute + time.Second // the verifier's default
	benchLease = 10 * time.Second             // the verifier's default
)

// benchDeliveries makes new deliveries, one per call, a step apart on the
// clock, so that about live of them are live at once (TTL/step).
type benchDeliveries struct {
	d    middleware.Delivery
	n    int
	step time.Duration
}

func newBenchDeliveries(live int) *benchDeliveries {
	return &benchDeliveries{
		d:    middleware.Delivery{Timestamp: []byte("2026-11-21T10:00:00.000Z"), TTL: benchTTL, Lease: benchLease},
		step: benchTTL / time.Duration(live),
	}
}

func (g *benchDeliveries) next() *middleware.Delivery {
	g.n++
	binary.LittleEndian.PutUint64(g.d.ID[:], uint64(g.n))
	binary.LittleEndian.PutUint64(g.d.BodyHash[:], uint64(g.n))
	binary.LittleEndian.PutUint64(g.d.Token[8:], uint64(g.n))
	g.d.Now = benchNow.Add(time.Duration(g.n) * g.step)
	g.d.FreshUntil = g.d.Now.Add(benchTTL / 2)
	return &g.d
}

// filled returns a store of capacity entries holding live ones, and the
// deliveries that filled it, to go on with.
func filled(b *testing.B, capacity, live int) (*middleware.MemoryReplayStore, *benchDeliveries) {
	store, err := middleware.NewMemoryReplayStore(capacity)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	g := newBenchDeliveries(live)
	for i := 0; i < live; i++ {
		d := g.next()
		if s, err := store.Begin(ctx, *d); err != nil || s != middleware.ReplayNew {
			b.Fatal(s, err)
		}
		if err := store.Finish(ctx, *d, true); err != nil {
			b.Fatal(err)
		}
	}
	return store, g
}

// BenchmarkMemoryReplayStore measures the store as the verifier uses it,
// with leases and claim tokens: Begin and Finish of a new delivery, and
// Renew of a claim, in a store holding few or 100,000 live deliveries (in
// room for 110,000) that expires about as many as it admits. The baseline
// makes the deliveries alone.
func BenchmarkMemoryReplayStore(b *testing.B) {
	ctx := context.Background()
	b.Run("baseline", func(b *testing.B) {
		g := newBenchDeliveries(100)
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			_ = g.next()
		}
	})
	for _, live := range []int{100, 100_000} {
		b.Run("Begin+Finish/live="+strconv.Itoa(live), func(b *testing.B) {
			store, g := filled(b, live+live/10, live)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d := g.next()
				if s, err := store.Begin(ctx, *d); err != nil || s != middleware.ReplayNew {
					b.Fatal(s, err)
				}
				if err := store.Finish(ctx, *d, true); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(store.Len()), "entries")
		})
	}
	b.Run("Renew/live=100000", func(b *testing.B) {
		store, g := filled(b, 110_000, 100_000)
		d := *g.next()
		if s, err := store.Begin(ctx, d); err != nil || s != middleware.ReplayNew {
			b.Fatal(s, err)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			d.Now = d.Now.Add(time.Microsecond)
			if err := store.Renew(ctx, d); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMemoryReplayStoreSize fills a default-sized store and reports
// the heap it holds per entry and in all, the figure DefaultMaxReplayEntries
// quotes. The heap is read after a collection, so that what the store's
// growth left behind is not counted, and everything the store holds is.
func BenchmarkMemoryReplayStoreSize(b *testing.B) {
	ctx := context.Background()
	var perEntry float64
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		store, err := middleware.NewMemoryReplayStore(0)
		if err != nil {
			b.Fatal(err)
		}
		g := newBenchDeliveries(middleware.DefaultMaxReplayEntries)
		g.step = 0 // all live at once
		for n := 0; n < middleware.DefaultMaxReplayEntries; n++ {
			d := g.next()
			if s, err := store.Begin(ctx, *d); err != nil || s != middleware.ReplayNew {
				b.Fatal(s, err)
			}
			_ = store.Finish(ctx, *d, true)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		perEntry = float64(after.HeapAlloc-before.HeapAlloc) / middleware.DefaultMaxReplayEntries
		if store.Len() != middleware.DefaultMaxReplayEntries {
			b.Fatal(store.Len())
		}
		runtime.KeepAlive(store)
	}
	b.ReportAllocs()
	b.ReportMetric(perEntry, "B/entry")
	b.ReportMetric(perEntry*middleware.DefaultMaxReplayEntries/1e6, "MB/store")
}
