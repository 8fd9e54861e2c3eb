// Package refusallog bounds what refused requests write to a log, so that
// a flood from the internet cannot fill a disk: the first refusal from an
// address in each window is logged in full, later ones from it are counted
// and reported in one summary once the window has passed, and at most a
// budget of full records is written per window over all addresses (the
// rest are counted together). IPv6 addresses count per /64, as a
// subscriber usually holds one.
package refusallog

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Defaults of a Sampler.
const (
	DefaultWindow = time.Minute
	DefaultBudget = 100  // full records per window, over all addresses
	maxTracked    = 1024 // addresses whose window is remembered
	maxDue        = 4    // summaries handed out per Admit: two may come from the address itself
)

// A Summary counts the refusals of one address that were not logged in
// full during a window. An invalid Addr stands for every address that was
// over the budget.
type Summary struct {
	Addr       netip.Addr
	Suppressed int
	Since      time.Time // when the window began
}

// Due holds the summaries whose window has ended, for the caller to log.
type Due struct {
	n int
	s [maxDue]Summary
}

// All returns the summaries.
func (d *Due) All() []Summary { return d.s[:d.n] }

func (d *Due) add(s Summary) {
	if d.n < len(d.s) {
		d.s[d.n] = s
		d.n++
	}
}

// A Sampler decides which refusals are logged in full. The zero value is
// not usable; New makes one. It is safe for concurrent use.
type Sampler struct {
	window time.Duration
	budget int

	mu          sync.Mutex
	windowStart time.Time
	spent       int // full records this window
	overBudget  int // refusals not logged this window for lack of budget
	tracked     map[netip.Addr]*entry
	oldest      entry // sentinel of a list in order of window start
}

type entry struct {
	addr       netip.Addr
	since      time.Time
	suppressed int
	prev, next *entry
}

// New returns a Sampler with the given window and budget (0: the
// defaults).
func New(window time.Duration, budget int) *Sampler {
	if window <= 0 {
		window = DefaultWindow
	}
	if budget <= 0 {
		budget = DefaultBudget
	}
	s := &Sampler{window: window, budget: budget, tracked: make(map[netip.Addr]*entry)}
	s.oldest.next, s.oldest.prev = &s.oldest, &s.oldest
	return s
}

// Admit records a refusal from addr at now and reports whether to log it in
// full, with the summaries that have fallen due.
func (s *Sampler) Admit(addr netip.Addr, now time.Time) (full bool, due Due) {
	addr = key(addr)
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.windowStart.IsZero() || now.Sub(s.windowStart) >= s.window || now.Before(s.windowStart) {
		if s.overBudget > 0 {
			due.add(Summary{Suppressed: s.overBudget, Since: s.windowStart})
		}
		s.windowStart, s.spent, s.overBudget = now, 0, 0
	}
	// Windows that ended, oldest first, a few per call.
	for e := s.oldest.next; e != &s.oldest && due.n < maxDue-2 && windowOver(e.since, now, s.window); e = s.oldest.next {
		s.drop(e, &due)
	}

	if e, ok := s.tracked[addr]; ok {
		if !windowOver(e.since, now, s.window) {
			e.suppressed++
			return false, due
		}
		s.drop(e, &due)
	}
	if s.spent >= s.budget {
		s.overBudget++
		return false, due
	}
	s.spent++
	if len(s.tracked) >= maxTracked {
		s.drop(s.oldest.next, &due)
	}
	e := &entry{addr: addr, since: now}
	s.tracked[addr] = e
	e.prev, e.next = s.oldest.prev, &s.oldest
	e.prev.next, s.oldest.prev = e, e
	return true, due
}

// drop forgets e, reporting what it counted.
func (s *Sampler) drop(e *entry, due *Due) {
	if e.suppressed > 0 {
		due.add(Summary{Addr: e.addr, Suppressed: e.suppressed, Since: e.since})
	}
	e.prev.next, e.next.prev = e.next, e.prev
	delete(s.tracked, e.addr)
}

func windowOver(since, now time.Time, window time.Duration) bool {
	return now.Sub(since) >= window || now.Before(since)
}

// key is the address refusals are counted under: unmapped, without zone,
// and an IPv6 address widened to its /64.
func key(addr netip.Addr) netip.Addr {
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.Addr()
	}
	return addr
}

// LogSummaries writes one Warn record per summary in due.
func LogSummaries(ctx context.Context, logger *slog.Logger, due Due) {
	for _, s := range due.All() {
		addr := "over the log budget"
		if s.Addr.IsValid() {
			addr = s.Addr.String()
		}
		logger.LogAttrs(ctx, slog.LevelWarn, "smileguard: refusals not logged one by one",
			slog.String("client_ip", addr), slog.Int("refusals", s.Suppressed), slog.Time("since", s.Since))
	}
}

// MaxLoggedBytes bounds a client-chosen value written to a log record.
const MaxLoggedBytes = 256

// Cut cuts s to n bytes, marking the cut with "...".
func Cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// Join joins the lines of a header with ", " and cuts the result after
// MaxLoggedBytes, never building more than that.
func Join(values []string) string {
	var b strings.Builder
	write := func(s string) bool {
		if room := MaxLoggedBytes - b.Len(); len(s) > room {
			b.WriteString(s[:room])
			b.WriteString("...")
			return false
		}
		b.WriteString(s)
		return true
	}
	for i, v := range values {
		if i > 0 && !write(", ") || !write(v) {
			break
		}
	}
	return b.String()
}

// Peer returns the address of r's peer, from RemoteAddr with or without a
// port, unmapped and without zone; the zero Addr if it is not an address.
func Peer(r *http.Request) netip.Addr {
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	a, _ := netip.ParseAddr(r.RemoteAddr)
	return a.Unmap().WithZone("")
}
