package middleware

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sync"
	"time"
)

// DefaultMaxReplayEntries is the default size of the in-memory replay store.
// Only callbacks whose signature verified are stored, for twice the
// tolerance (10 minutes by default): 100,000 entries allow a sustained 160
// callbacks per second and take about 20 MB (BenchmarkMemoryReplayStoreSize:
// 204 bytes an entry).
const DefaultMaxReplayEntries = 100_000

// MemoryReplayStore is the default ReplayStore: one process's memory,
// bounded by its entry count. When every entry is still live it refuses new
// deliveries with ErrReplayStoreFull instead of forgetting old ones, which
// would let a replay through. It is safe for concurrent use. Several
// instances behind a load balancer need a shared store instead (see
// middleware/redisstore).
type MemoryReplayStore struct {
	mu      sync.Mutex
	max     int
	entries map[[sha256.Size]byte]replayEntry
	expiry  expiryHeap
}

type replayEntry struct {
	bodyHash   [sha256.Size]byte
	state      ReplayState // ReplayInFlight, ReplayHandled, or ReplayNew for a released delivery
	token      [16]byte    // the claim's holder, while in flight
	leaseUntil time.Time   // the claim's end, while in flight
	expires    time.Time
}

// NewMemoryReplayStore returns a store holding at most maxEntries live
// deliveries (0: DefaultMaxReplayEntries).
func NewMemoryReplayStore(maxEntries int) (*MemoryReplayStore, error) {
	if maxEntries < 0 {
		return nil, fmt.Errorf("middleware: replay store size %d is negative", maxEntries)
	}
	if maxEntries == 0 {
		maxEntries = DefaultMaxReplayEntries
	}
	return &MemoryReplayStore{max: maxEntries, entries: make(map[[sha256.Size]byte]replayEntry)}, nil
}

// Begin implements ReplayStore.
func (s *MemoryReplayStore) Begin(_ context.Context, d Delivery) (ReplayState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expire(d.Now)
	if e, ok := s.entries[d.ID]; ok {
		switch {
		case e.bodyHash != d.BodyHash:
			return ReplayConflict, nil
		case e.state == ReplayNew, // released: claim it again
			e.state == ReplayInFlight && (e.token == d.Token || !d.Now.Before(e.leaseUntil)):
			e.state, e.token, e.leaseUntil = ReplayInFlight, d.Token, d.Now.Add(d.Lease)
			s.entries[d.ID] = e
			return ReplayNew, nil
		}
		return e.state, nil
	}
	if len(s.entries) >= s.max {
		return 0, ErrReplayStoreFull
	}
	expires := d.Now.Add(d.TTL)
	if d.FreshUntil.After(expires) {
		expires = d.FreshUntil.Add(time.Nanosecond)
	}
	e := replayEntry{bodyHash: d.BodyHash, state: ReplayInFlight, token: d.Token, leaseUntil: d.Now.Add(d.Lease), expires: expires}
	s.entries[d.ID] = e
	s.expiry.push(expiryItem{id: d.ID, expires: e.expires})
	return ReplayNew, nil
}

// Renew implements ReplayStore.
func (s *MemoryReplayStore) Renew(_ context.Context, d Delivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[d.ID]
	if !ok || e.bodyHash != d.BodyHash || e.state != ReplayInFlight || e.token != d.Token {
		return ErrClaimLost
	}
	e.leaseUntil = d.Now.Add(d.Lease)
	s.entries[d.ID] = e
	return nil
}

// Finish implements ReplayStore.
func (s *MemoryReplayStore) Finish(_ context.Context, d Delivery, handled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.entries[d.ID]
	if !ok || e.bodyHash != d.BodyHash || e.state != ReplayInFlight || e.token != d.Token {
		return ErrClaimLost // expired meanwhile, or not ours to finish
	}
	if handled {
		e.state = ReplayHandled
	} else {
		e.state = ReplayNew
	}
	s.entries[d.ID] = e
	return nil
}

// Len returns the number of deliveries the store holds, live or not yet
// swept.
func (s *MemoryReplayStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// expire drops the entries that expired by now.
func (s *MemoryReplayStore) expire(now time.Time) {
	for len(s.expiry) > 0 && !now.Before(s.expiry[0].expires) {
		// Entries and heap items are one to one: an item is pushed only
		// with a new entry, and an entry is deleted only here.
		delete(s.entries, s.expiry.pop().id)
	}
}

type expiryItem struct {
	id      [sha256.Size]byte
	expires time.Time
}

// expiryHeap is a min-heap of expiry times. It is written out rather than
// built on container/heap, whose interface{} arguments would allocate on
// every push.
type expiryHeap []expiryItem

func (h *expiryHeap) push(item expiryItem) {
	*h = append(*h, item)
	q := *h
	for i := len(q) - 1; i > 0; {
		parent := (i - 1) / 2
		if !q[i].expires.Before(q[parent].expires) {
			break
		}
		q[i], q[parent] = q[parent], q[i]
		i = parent
	}
}

func (h *expiryHeap) pop() expiryItem {
	q := *h
	top := q[0]
	last := len(q) - 1
	q[0] = q[last]
	q = q[:last]
	for i := 0; ; {
		least, l, r := i, 2*i+1, 2*i+2
		if l < len(q) && q[l].expires.Before(q[least].expires) {
			least = l
		}
		if r < len(q) && q[r].expires.Before(q[least].expires) {
			least = r
		}
		if least == i {
			break
		}
		q[i], q[least] = q[least], q[i]
		i = least
	}
	*h = q
	return top
}
