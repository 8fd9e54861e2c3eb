package middleware

import (
	"context"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"time"
)

// DefaultMaxReplayEntries is the default size of the in-memory replay store.
// Only callbacks whose signature verified are stored, for twice the
// tolerance (10 minutes by default): 100,000 entries allow a sustained 160
// callbacks per second, in about 13 MB. A busier receiver needs a larger
// store (see [NewMemoryReplayStore]) or a shared one; when the store is full
// of live entries, callbacks are refused with 503 ([ErrReplayStoreFull]).
const DefaultMaxReplayEntries = 100_000

// MemoryReplayStore is the default [ReplayStore]: one process's memory,
// bounded by its entry count. When every entry is still live it refuses new
// deliveries with [ErrReplayStoreFull] instead of forgetting old ones, which
// would let a replay through. Its zero value holds [DefaultMaxReplayEntries].
// It is safe for concurrent use. Several instances behind a load balancer
// need a shared store instead (see middleware/redisstore).
//
// Claims are leases, as the [ReplayStore] contract says, with its one
// trade-off: a handler that runs past its lease without renewal (a stall of
// three renewals in a row) may see the delivery handled a second time by
// the retry that took it over. The late Renew and Finish of the attempt
// that lost its claim return [ErrClaimLost], which the verifier logs.
//
// An entry is remembered until [Delivery.TTL] has passed on the verifier's
// clock as the store first saw it (the monotonic clock when [Delivery.Now]
// carries a reading, as time.Now's do) and until [Delivery.FreshUntil] on
// the wall clock, so that a wall clock stepped back does not re-open a
// remembered pair.
type MemoryReplayStore struct {
	mu  sync.Mutex
	max int

	// The store's clock: nanoseconds since base, the first Begin's Now.
	// Sub uses the monotonic reading when both times carry one.
	base    time.Time
	started bool

	// entries holds every remembered delivery at a stable index; free
	// ones (state 0) are chained through next. slots is an open-addressed
	// (linear probing) index of entries by ID, whose length is a power of
	// two at least twice the entries' capacity: a slot holds the ID's
	// hash in its high half (the hash's low bits are its home slot) and
	// the entry's index+1 in its low half, so that probing reads entries
	// only on a hash match; 0 is an empty slot.
	entries []replayEntry
	free    uint32 // first free entry, index+1; 0: none
	count   int
	slots   []uint64
	seed    maphash.Seed

	// wheel files every entry under the tick (2^tickShift ns of the
	// store's clock) at which it should next be looked at, one chain per
	// tick modulo len(wheel); swept is the first tick not yet looked at.
	wheel []uint32
	swept int64
}

// replayEntry holds no pointer, so that the garbage collector never scans
// the store. Times are nanoseconds: expires and leaseUntil on the store's
// clock, freshUntil on the wall clock (Unix).
type replayEntry struct {
	id         [32]byte
	bodyHash   [32]byte
	token      [16]byte // the claim's holder: the last token that claimed it
	expires    int64
	freshUntil int64 // math.MinInt64: no FreshUntil
	leaseUntil int64
	next       uint32 // the next entry on its wheel chain or the free list, index+1
	state      uint8  // 0 free, else ReplayInFlight, ReplayHandled, or ReplayNew for a released delivery
}

const (
	tickShift   = 28      // a tick of the expiry wheel is 2^28 ns, about 268 ms
	wheelTicks  = 1 << 14 // the wheel turns in about 73 minutes
	minCapacity = 64      // entries the store starts with
)

// NewMemoryReplayStore returns a store holding at most maxEntries live
// deliveries (0: DefaultMaxReplayEntries). Its memory grows with the
// deliveries it holds, up to about 134 bytes each at the bound.
func NewMemoryReplayStore(maxEntries int) (*MemoryReplayStore, error) {
	if maxEntries < 0 {
		return nil, fmt.Errorf("middleware: replay store size %d is negative", maxEntries)
	}
	if maxEntries > math.MaxUint32/2 {
		return nil, fmt.Errorf("middleware: replay store size %d is over %d", maxEntries, math.MaxUint32/2)
	}
	return &MemoryReplayStore{max: maxEntries}, nil
}

// Begin implements ReplayStore.
func (s *MemoryReplayStore) Begin(_ context.Context, d Delivery) (ReplayState, error) {
	if d.Token == ([16]byte{}) {
		return 0, ErrZeroToken
	}
	if d.Lease == 0 {
		d.Lease = DefaultLease
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now, wall := s.clock(d.Now)
	return s.begin(&d, now, wall)
}

// Renew implements ReplayStore.
func (s *MemoryReplayStore) Renew(_ context.Context, d Delivery) error {
	if d.Lease == 0 {
		d.Lease = DefaultLease
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now, wall := s.clock(d.Now)
	return s.renew(&d, now, wall)
}

// Finish implements ReplayStore.
func (s *MemoryReplayStore) Finish(_ context.Context, d Delivery, handled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, wall := s.clock(d.Now)
	return s.finish(&d, handled, now, wall)
}

// Len returns the number of deliveries the store holds, live or not yet
// swept. An expired entry is swept within about a second.
func (s *MemoryReplayStore) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count
}

// clock returns now on the store's clock and on the wall clock, in
// nanoseconds. The first call sets the store's base.
func (s *MemoryReplayStore) clock(now time.Time) (store, wall int64) {
	if !s.started {
		s.base, s.started = now, true
	}
	return int64(now.Sub(s.base)), now.UnixNano()
}

// begin is Begin at now on the store's clock and wall on the wall clock.
func (s *MemoryReplayStore) begin(d *Delivery, now, wall int64) (ReplayState, error) {
	if s.wheel == nil {
		s.init()
	}
	s.sweep(now, wall)
	h := s.hash(&d.ID)
	if i, ok := s.find(&d.ID, h); ok {
		e := &s.entries[i]
		if !e.live(now, wall) {
			// Expired but not swept yet: it starts over where it is, and
			// the sweep files it anew when it reaches its old tick.
			e.set(d, now)
			return ReplayNew, nil
		}
		switch {
		case e.bodyHash != d.BodyHash:
			return ReplayConflict, nil
		case e.state == uint8(ReplayHandled):
			return ReplayHandled, nil
		case e.state == uint8(ReplayInFlight) && e.token != d.Token && now < e.leaseUntil:
			return ReplayInFlight, nil
		}
		// Released, its lease ended, or d.Token's own claim retried.
		e.state, e.token, e.leaseUntil = uint8(ReplayInFlight), d.Token, addSat(now, int64(d.Lease))
		return ReplayNew, nil
	}
	if s.count >= s.max {
		// Entries dead since the current tick began are not swept yet:
		// look at them before refusing.
		s.sweepTick(now>>tickShift, now, wall)
		if s.count >= s.max {
			return 0, ErrReplayStoreFull
		}
	}
	i := s.alloc()
	e := &s.entries[i]
	e.id = d.ID
	e.set(d, now)
	s.insert(i, h)
	s.file(i, e.due(now, wall))
	return ReplayNew, nil
}

func (s *MemoryReplayStore) renew(d *Delivery, now, wall int64) error {
	e := s.held(d, now, wall)
	if e == nil {
		return ErrClaimLost
	}
	e.leaseUntil = addSat(now, int64(d.Lease))
	return nil
}

func (s *MemoryReplayStore) finish(d *Delivery, handled bool, now, wall int64) error {
	outcome := uint8(ReplayNew) // released
	if handled {
		outcome = uint8(ReplayHandled)
	}
	e := s.held(d, now, wall)
	if e == nil {
		if e := s.finishedBy(d, now, wall); e != nil && e.state == outcome {
			return nil // a retried Finish: it was done
		}
		return ErrClaimLost
	}
	e.state = outcome
	return nil
}

func (s *MemoryReplayStore) init() {
	if s.max == 0 {
		s.max = DefaultMaxReplayEntries
	}
	s.seed = maphash.MakeSeed()
	s.wheel = make([]uint32, wheelTicks)
	s.grow()
}

// held returns the entry of d.Token's live claim on d, or nil.
func (s *MemoryReplayStore) held(d *Delivery, now, wall int64) *replayEntry {
	if e := s.claimedBy(d, now, wall); e != nil && e.state == uint8(ReplayInFlight) {
		return e
	}
	return nil
}

// finishedBy returns the entry of d if d.Token was the last to claim it and
// finished it, or nil.
func (s *MemoryReplayStore) finishedBy(d *Delivery, now, wall int64) *replayEntry {
	if e := s.claimedBy(d, now, wall); e != nil && e.state != uint8(ReplayInFlight) {
		return e
	}
	return nil
}

// claimedBy returns the live entry of d last claimed by d.Token, on d's
// body, in whatever state, or nil.
func (s *MemoryReplayStore) claimedBy(d *Delivery, now, wall int64) *replayEntry {
	if s.wheel == nil {
		return nil
	}
	i, ok := s.find(&d.ID, s.hash(&d.ID))
	if !ok {
		return nil
	}
	e := &s.entries[i]
	if e.token != d.Token || e.bodyHash != d.BodyHash || !e.live(now, wall) {
		return nil
	}
	return e
}

// set binds e (whose id is set) to d's body, claimed by d.Token, as of
// now.
func (e *replayEntry) set(d *Delivery, now int64) {
	e.bodyHash, e.token, e.state = d.BodyHash, d.Token, uint8(ReplayInFlight)
	e.expires = addSat(now, int64(d.TTL))
	e.leaseUntil = addSat(now, int64(d.Lease))
	e.freshUntil = math.MinInt64
	if !d.FreshUntil.IsZero() {
		e.freshUntil = d.FreshUntil.UnixNano()
	}
}

// live reports whether e is remembered at now: its TTL has not run out,
// or its timestamp is still fresh on the wall clock.
func (e *replayEntry) live(now, wall int64) bool {
	return now < e.expires || wall <= e.freshUntil
}

// due is when a live e should next be looked at, on the store's clock:
// when its TTL runs out, or later if the wall clock keeps it fresh
// longer. It is after now.
func (e *replayEntry) due(now, wall int64) int64 {
	due := max(e.expires, addSat(now, 1))
	if wall <= e.freshUntil {
		due = max(due, addSat(now, subSat(e.freshUntil, wall)+1))
	}
	return due
}

// sweep looks at every tick that ended by now: it frees the entries that
// are dead and files the others under their next tick.
func (s *MemoryReplayStore) sweep(now, wall int64) {
	tick := now >> tickShift
	if tick <= s.swept {
		return
	}
	first := max(s.swept, tick-wheelTicks) // after a long pause, each chain once
	for k := first; k < tick; k++ {
		s.sweepTick(k, now, wall)
	}
	s.swept = tick
}

// sweepTick looks at the chain of tick k.
func (s *MemoryReplayStore) sweepTick(k, now, wall int64) {
	chain := &s.wheel[k&(wheelTicks-1)]
	next := *chain
	*chain = 0
	for next != 0 {
		i := next - 1
		e := &s.entries[i]
		next = e.next
		if e.live(now, wall) {
			s.file(i, e.due(now, wall))
		} else {
			s.remove(i)
		}
	}
}

// file chains entry i under the tick of due, or under the first tick not
// swept yet if due is before it (the clock went back).
func (s *MemoryReplayStore) file(i uint32, due int64) {
	tick := max(due>>tickShift, s.swept)
	chain := &s.wheel[tick&(wheelTicks-1)]
	s.entries[i].next = *chain
	*chain = i + 1
}

// alloc returns the index of a free entry, growing the store if it must.
func (s *MemoryReplayStore) alloc() uint32 {
	if s.free == 0 {
		if len(s.entries) == cap(s.entries) {
			s.grow()
		}
		s.entries = s.entries[:len(s.entries)+1]
		s.count++
		return uint32(len(s.entries) - 1)
	}
	i := s.free - 1
	s.free = s.entries[i].next
	s.count++
	return i
}

// remove forgets entry i.
func (s *MemoryReplayStore) remove(i uint32) {
	e := &s.entries[i]
	mask := uint32(len(s.slots) - 1)
	j := s.hash(&e.id) & mask
	for uint32(s.slots[j]) != i+1 {
		j = (j + 1) & mask
	}
	// Backward-shift deletion: move up every entry after j whose probe
	// sequence passes j, so that no lookup stops at the gap early.
	for k := (j + 1) & mask; s.slots[k] != 0; k = (k + 1) & mask {
		home := uint32(s.slots[k]>>32) & mask
		if (k-home)&mask >= (k-j)&mask {
			s.slots[j] = s.slots[k]
			j = k
		}
	}
	s.slots[j] = 0
	*e = replayEntry{next: s.free}
	s.free = i + 1
	s.count--
}

// find returns the index of the entry with id, whose hash is h.
func (s *MemoryReplayStore) find(id *[32]byte, h uint32) (uint32, bool) {
	mask := uint32(len(s.slots) - 1)
	for j := h & mask; s.slots[j] != 0; j = (j + 1) & mask {
		if slot := s.slots[j]; uint32(slot>>32) == h {
			if i := uint32(slot) - 1; s.entries[i].id == *id {
				return i, true
			}
		}
	}
	return 0, false
}

// insert indexes entry i, whose ID (not indexed yet) has hash h.
func (s *MemoryReplayStore) insert(i, h uint32) {
	s.put(uint64(h)<<32 | uint64(i+1))
}

func (s *MemoryReplayStore) put(slot uint64) {
	mask := uint32(len(s.slots) - 1)
	j := uint32(slot>>32) & mask
	for s.slots[j] != 0 {
		j = (j + 1) & mask
	}
	s.slots[j] = slot
}

// hash is the hash of id that places it in the index. The seed keeps it
// unpredictable, so that no one can choose IDs that collide.
func (s *MemoryReplayStore) hash(id *[32]byte) uint32 {
	return uint32(maphash.Bytes(s.seed, id[:]))
}

// grow doubles the entries' capacity, up to max, and re-indexes them. It
// runs only while the store fills up: at its bound, the store allocates
// nothing.
func (s *MemoryReplayStore) grow() {
	n := min(max(2*cap(s.entries), minCapacity), s.max)
	entries := make([]replayEntry, len(s.entries), n)
	copy(entries, s.entries)
	s.entries = entries
	size := 1
	for size < 2*n {
		size <<= 1
	}
	old := s.slots
	s.slots = make([]uint64, size)
	for _, slot := range old {
		if slot != 0 {
			s.put(slot)
		}
	}
}

// addSat and subSat add and subtract without wrapping around.
func addSat(a, b int64) int64 {
	if c := a + b; (c > a) == (b > 0) {
		return c
	}
	if b > 0 {
		return math.MaxInt64
	}
	return math.MinInt64
}

func subSat(a, b int64) int64 {
	if b == math.MinInt64 {
		if a >= 0 {
			return math.MaxInt64
		}
		return a - b
	}
	return addSat(a, -b)
}
