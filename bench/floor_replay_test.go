package bench

import (
	"crypto/sha256"
	"sync"
)

// fifoReplay is the floor's replay defence: every verified delivery is
// remembered, bound to the hash of its body, for the same time after it
// is first seen, so the first remembered is the first forgotten and a
// queue in arrival order expires them, with no heap. A clock that steps
// back only makes it remember longer. It is bounded, and refuses new
// deliveries when full rather than forget live ones. Safe for concurrent
// use.
type fifoReplay struct {
	mu    sync.Mutex
	max   int
	seqOf map[[sha256.Size]byte]uint64 // a delivery's sequence number
	queue []replaySlot                 // queue[head:] are remembered, oldest first
	head  int
	base  uint64 // the sequence number of queue[0]
}

type replaySlot struct {
	id, bodyHash [sha256.Size]byte
	expires      int64 // unix nanoseconds
	state        replayState
}

type replayState uint8

const (
	replayNew      replayState = iota // for begin: claimed, go on
	replayInFlight                    // claimed by an attempt still running: 409
	replayHandled                     // answered 2xx: acknowledge, 200
	replayConflict                    // for begin: the pair came with another body: 401
	replayFull                        // for begin: every slot is live: 503
	replayReleased                    // not answered 2xx: the next attempt may claim it
)

func newFIFOReplay(max int) *fifoReplay {
	return &fifoReplay{max: max, seqOf: map[[sha256.Size]byte]uint64{}}
}

// begin claims the delivery id with bodyHash at now, to be remembered
// until expires, and returns its sequence number for finish. The claim has
// no lease: the process that holds it is this one, and finish runs even if
// the next handler panics.
func (s *fifoReplay) begin(id, bodyHash *[sha256.Size]byte, now, expires int64) (uint64, replayState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.head < len(s.queue) && s.queue[s.head].expires <= now {
		delete(s.seqOf, s.queue[s.head].id)
		s.queue[s.head] = replaySlot{}
		s.head++
	}
	if seq, ok := s.seqOf[*id]; ok {
		slot := &s.queue[seq-s.base]
		switch {
		case slot.bodyHash != *bodyHash:
			return 0, replayConflict
		case slot.state == replayReleased:
			slot.state = replayInFlight
			return seq, replayNew
		}
		return 0, slot.state
	}
	if len(s.queue)-s.head >= s.max {
		return 0, replayFull
	}
	if s.head > 0 && len(s.queue) == cap(s.queue) && s.head >= len(s.queue)/2 {
		// Reuse the forgotten front instead of growing: sequence numbers
		// stay, only their base moves.
		n := copy(s.queue, s.queue[s.head:])
		clear(s.queue[n:])
		s.queue = s.queue[:n]
		s.base += uint64(s.head)
		s.head = 0
	}
	seq := s.base + uint64(len(s.queue))
	s.queue = append(s.queue, replaySlot{id: *id, bodyHash: *bodyHash, expires: expires, state: replayInFlight})
	s.seqOf[*id] = seq
	return seq, replayNew
}

// finish ends the claim of begin's seq: handled (the next handler answered
// 2xx), or released for the next attempt. A delivery forgotten meanwhile
// (its claim outlived its memory) is left alone.
func (s *fifoReplay) finish(seq uint64, id *[sha256.Size]byte, handled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if seq < s.base+uint64(s.head) || seq-s.base >= uint64(len(s.queue)) {
		return
	}
	if slot := &s.queue[seq-s.base]; slot.id == *id && slot.state == replayInFlight {
		slot.state = replayReleased
		if handled {
			slot.state = replayHandled
		}
	}
}
