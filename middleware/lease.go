package middleware

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// A leaseKeeper renews the claims of the deliveries whose next handler is
// running, every third of a lease, so that a claim outlives its lease only
// while its holder is alive and its client still waits. A holder that goes
// away (a crash, a kill, a process frozen longer than the lease) stops
// renewing, and its claim frees itself: Smile ID's retry, to this instance
// or another, is then processed.
//
// It also finishes again, until the store takes it, a handled mark the
// store could not take when the handler returned (see finishLater).
//
// Its goroutine runs only while some handler runs or some mark waits: it
// is started by the first hold (or mark) and ends when it finds none left.
type leaseKeeper struct {
	store  ReplayStore
	lease  time.Duration
	now    func() time.Time
	logger *slog.Logger

	mu        sync.Mutex
	held      delivery // sentinel of the list of deliveries whose handler runs
	late      []*lateFinish
	finishing bool // a round of late finishes is running
	running   bool
}

func newLeaseKeeper(store ReplayStore, lease time.Duration, now func() time.Time, logger *slog.Logger) *leaseKeeper {
	k := &leaseKeeper{store: store, lease: lease, now: now, logger: logger}
	k.held.leaseNext, k.held.leasePrev = &k.held, &k.held
	return k
}

// hold starts renewing d's claim until release, unless it already is. Its
// first renewal comes at the second tick after it (the first notes when it
// was seen), within two thirds of a lease: the hot path does not read the
// clock.
func (k *leaseKeeper) hold(d *delivery) {
	k.mu.Lock()
	if d.holding { // since before a Confirmer was asked
		k.mu.Unlock()
		return
	}
	d.renewedAt = time.Time{}
	d.holding = true
	d.leasePrev, d.leaseNext = k.held.leasePrev, &k.held
	d.leasePrev.leaseNext, k.held.leasePrev = d, d
	k.startLocked()
	k.mu.Unlock()
}

// startLocked starts the keeper's goroutine if it is not running. k.mu is
// held.
func (k *leaseKeeper) startLocked() {
	if !k.running {
		k.running = true
		go k.run()
	}
}

// release stops renewing d's claim.
func (k *leaseKeeper) release(d *delivery) {
	k.mu.Lock()
	d.leasePrev.leaseNext, d.leaseNext.leasePrev = d.leaseNext, d.leasePrev
	d.leasePrev, d.leaseNext = nil, nil
	d.holding = false
	k.mu.Unlock()
}

// run renews the held claims that are due, every third of a lease, and
// finishes the late marks every lateFinishInterval, until none is left.
func (k *leaseKeeper) run() {
	interval := k.lease / 3
	for {
		k.mu.Lock()
		sleep := interval
		if len(k.late) > 0 {
			sleep = min(interval, lateFinishInterval)
		}
		k.mu.Unlock()
		time.Sleep(sleep)
		k.mu.Lock()
		if k.held.leaseNext == &k.held && len(k.late) == 0 {
			k.running = false
			k.mu.Unlock()
			return
		}
		if len(k.late) > 0 && !k.finishing {
			k.finishing = true
			go k.finishLate()
		}
		now := time.Now()
		for d := k.held.leaseNext; d != &k.held; d = d.leaseNext {
			if d.renewedAt.IsZero() {
				d.renewedAt = now // held since the last tick at most
				continue
			}
			if d.lost || now.Sub(d.renewedAt) < interval {
				continue
			}
			if d.Context.Err() != nil {
				// The client is gone: let the claim lapse, so that
				// Smile ID's retry is processed even if this handler
				// never returns.
				continue
			}
			d.renewedAt = now
			claim := d.claim
			claim.Now = k.now()
			go k.renew(d, claim)
		}
		k.mu.Unlock()
	}
}

// renew renews one claim, and marks it lost if the store says another
// attempt holds it now.
func (k *leaseKeeper) renew(d *delivery, claim Delivery) {
	err := k.store.Renew(context.Background(), claim)
	if err == nil {
		return
	}
	k.mu.Lock()
	stillHeld := d.holding
	if stillHeld && errors.Is(err, ErrClaimLost) {
		d.lost = true
	}
	k.mu.Unlock()
	if !stillHeld || k.logger == nil {
		return
	}
	if errors.Is(err, ErrClaimLost) {
		k.logger.LogAttrs(context.Background(), slog.LevelError,
			"smileguard: a handler outlived its claim's lease; another attempt may handle the delivery too",
			slog.String("delivery", shortID(claim.ID)), slog.String("key_id", d.callback.KeyID))
		return
	}
	k.logger.LogAttrs(context.Background(), slog.LevelWarn, "smileguard: replay store could not renew a claim",
		slog.String("error", err.Error()), slog.String("delivery", shortID(claim.ID)))
}
