package middleware

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// lateFinishInterval is how often a handled mark the store could not take
// is tried again.
const lateFinishInterval = 200 * time.Millisecond

// maxLateFinishes bounds the handled marks waiting for the store; past it a
// mark is given up (logged at Error) and its claim lapses with its lease.
const maxLateFinishes = 10_000

// A lateFinish is a handled mark the replay store could not take when the
// handler returned: the store was down or slow. Were it dropped, the claim
// would lapse with its lease and an exact replay of the delivery (a copy
// an attacker captured, or a duplicate send) would be handled again while
// the pair is still fresh. So it is tried again until the store takes it,
// another attempt turns out to hold the claim, or the pair can no longer
// pass the freshness check.
type lateFinish struct {
	claim     Delivery
	timestamp [64]byte  // the claim's Timestamp: the body it pointed into may be reused
	until     time.Time // the pair's expiry: past it, no replay can be admitted
	logged    bool      // its first failure was logged
}

// finishLater keeps claim's handled mark to finish it again.
func (k *leaseKeeper) finishLater(claim Delivery) {
	l := &lateFinish{claim: claim, until: claim.Now.Add(claim.TTL)}
	if claim.FreshUntil.After(l.until) {
		l.until = claim.FreshUntil
	}
	l.claim.Timestamp = append(l.timestamp[:0], claim.Timestamp...)
	k.mu.Lock()
	defer k.mu.Unlock()
	if len(k.late) >= maxLateFinishes {
		if k.logger != nil {
			k.logger.LogAttrs(context.Background(), slog.LevelError,
				"smileguard: too many handled marks wait for the replay store; one is given up, and an exact replay of it could be handled again",
				slog.String("delivery", shortID(claim.ID)))
		}
		return
	}
	k.late = append(k.late, l)
	k.startLocked()
}

// finishLate tries the waiting marks in turn, and stops at the first the
// store cannot take: while it is down, one attempt per round is enough,
// and the others do not crowd its connections.
func (k *leaseKeeper) finishLate() {
	defer func() {
		k.mu.Lock()
		k.finishing = false
		k.mu.Unlock()
	}()
	for {
		k.mu.Lock()
		if len(k.late) == 0 {
			k.mu.Unlock()
			return
		}
		l := k.late[0]
		k.mu.Unlock()

		claim := l.claim
		claim.Now = k.now()
		var err error
		if claim.Now.After(l.until) {
			err = errPairStale
		} else {
			err = k.store.Finish(context.Background(), claim, true)
		}
		switch {
		case err == nil, errors.Is(err, ErrClaimLost), errors.Is(err, errPairStale):
			k.mu.Lock()
			k.late = k.late[1:]
			k.mu.Unlock()
			k.reportLate(l, err)
		default:
			if !l.logged && k.logger != nil {
				l.logged = true
				k.logger.LogAttrs(context.Background(), slog.LevelWarn, "smileguard: replay store still cannot take a handled mark; trying again",
					slog.String("error", err.Error()), slog.String("delivery", shortID(claim.ID)))
			}
			return // the store is down: the next round tries again
		}
	}
}

// errPairStale means a waiting mark's pair can no longer be fresh: no
// replay of it can be admitted, so it need not be finished.
var errPairStale = errors.New("middleware: the pair is stale")

// reportLate logs how a waiting mark ended.
func (k *leaseKeeper) reportLate(l *lateFinish, err error) {
	if k.logger == nil {
		return
	}
	switch {
	case err == nil:
		k.logger.LogAttrs(context.Background(), slog.LevelInfo, "smileguard: replay store took a handled mark late",
			slog.String("delivery", shortID(l.claim.ID)))
	case errors.Is(err, ErrClaimLost):
		k.logger.LogAttrs(context.Background(), slog.LevelError,
			"smileguard: a handled mark came too late: another attempt took the delivery over, which may be handled twice",
			slog.String("delivery", shortID(l.claim.ID)))
	}
}
