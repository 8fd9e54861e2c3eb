package allowlist

import (
	"cmp"
	"encoding/binary"
	"net/netip"
	"slices"
)

// prefixTable answers "which labelled prefix contains this address" with a
// binary search. New builds it once: every prefix becomes a range of
// addresses, and the ranges are made disjoint, each address keeping the
// label of the first (lowest) label that covers it. A lookup is then
// O(log n) whatever the number of prefixes, with no allocation.
type prefixTable struct {
	v4, v6 []span // sorted by first, disjoint
}

// span is the address range [first, last] with its label (the index of a
// set in Config.Allow, or 0 for the trusted proxies).
type span struct {
	first, last uint128
	label       int
}

// uint128 is an address as a 128-bit unsigned number; IPv4 addresses use
// only the low 32 bits and live in their own table.
type uint128 struct{ hi, lo uint64 }

func (x uint128) less(y uint128) bool {
	return x.hi < y.hi || x.hi == y.hi && x.lo < y.lo
}

func (x uint128) compare(y uint128) int {
	if c := cmp.Compare(x.hi, y.hi); c != 0 {
		return c
	}
	return cmp.Compare(x.lo, y.lo)
}

// next returns x+1 and false if that overflows.
func (x uint128) next() (uint128, bool) {
	lo := x.lo + 1
	hi := x.hi
	if lo == 0 {
		hi++
		if hi == 0 {
			return uint128{}, false
		}
	}
	return uint128{hi, lo}, true
}

// prev returns x-1; x must not be zero.
func (x uint128) prev() uint128 {
	if x.lo == 0 {
		return uint128{x.hi - 1, ^uint64(0)}
	}
	return uint128{x.hi, x.lo - 1}
}

// addrKey returns a as a number. a must be valid and unmapped.
func addrKey(a netip.Addr) uint128 {
	if a.Is4() {
		b := a.As4()
		return uint128{0, uint64(binary.BigEndian.Uint32(b[:]))}
	}
	b := a.As16()
	return uint128{binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])}
}

// prefixSpan returns the range of p, which must be valid, masked and
// unmapped.
func prefixSpan(p netip.Prefix, label int) span {
	first := addrKey(p.Addr())
	hostBits := p.Addr().BitLen() - p.Bits()
	// Shifts of 64 or more give 0 for unsigned values, so each half of the
	// host mask is 1<<n - 1 with n clamped to [0, 64].
	mask := uint128{uint64(1)<<max(hostBits-64, 0) - 1, uint64(1)<<min(hostBits, 64) - 1}
	last := uint128{first.hi | mask.hi, first.lo | mask.lo}
	return span{first, last, label}
}

// add adds prefixes under label. Addresses already covered keep their
// label, so labels added first take precedence.
func (t *prefixTable) add(label int, prefixes []netip.Prefix) {
	var v4, v6 []span
	for _, p := range prefixes {
		if p.Addr().Is4() {
			v4 = append(v4, prefixSpan(p, label))
		} else {
			v6 = append(v6, prefixSpan(p, label))
		}
	}
	t.v4 = mergeUncovered(t.v4, coalesce(v4))
	t.v6 = mergeUncovered(t.v6, coalesce(v6))
}

// lookup returns the label of the range that contains a, which must be
// valid and unmapped.
func (t *prefixTable) lookup(a netip.Addr) (label int, ok bool) {
	if a.Is4() {
		b := a.As4()
		return find4(t.v4, uint64(binary.BigEndian.Uint32(b[:])))
	}
	return find(t.v6, addrKey(a))
}

// find returns the label of the span in spans that holds x. It looks for
// the number of spans that start at or before x; the last of them is the
// only one that can hold x.
func find(spans []span, x uint128) (label int, ok bool) {
	lo, hi := 0, len(spans)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if x.less(spans[m].first) {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == 0 || spans[lo-1].last.less(x) {
		return 0, false
	}
	return spans[lo-1].label, true
}

// find4 is find for IPv4 spans, whose high halves are zero.
func find4(spans []span, x uint64) (label int, ok bool) {
	lo, hi := 0, len(spans)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if x < spans[m].first.lo {
			hi = m
		} else {
			lo = m + 1
		}
	}
	if lo == 0 || spans[lo-1].last.lo < x {
		return 0, false
	}
	return spans[lo-1].label, true
}

// contains reports whether any range holds a.
func (t *prefixTable) contains(a netip.Addr) bool {
	_, ok := t.lookup(a)
	return ok
}

// coalesce sorts spans of one label and merges those that overlap or touch.
func coalesce(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return a.first.compare(b.first) })
	out := spans[:0]
	for _, s := range spans {
		if n := len(out); n > 0 {
			end, ok := out[n-1].last.next()
			if !ok || !end.less(s.first) { // overlaps or touches
				if out[n-1].last.less(s.last) {
					out[n-1].last = s.last
				}
				continue
			}
		}
		out = append(out, s)
	}
	return out
}

// mergeUncovered returns have plus the parts of add that have does not
// cover. Both must be sorted and disjoint; so is the result.
func mergeUncovered(have, add []span) []span {
	out := slices.Clone(have)
	j := 0
	for _, s := range add {
		for j < len(have) && have[j].last.less(s.first) {
			j++
		}
		cur, covered := s.first, false
		for k := j; k < len(have) && !s.last.less(have[k].first); k++ {
			if cur.less(have[k].first) {
				out = append(out, span{cur, have[k].first.prev(), s.label})
			}
			next, ok := have[k].last.next()
			if !ok || s.last.less(next) {
				covered = true
				break
			}
			cur = next
		}
		if !covered {
			out = append(out, span{cur, s.last, s.label})
		}
	}
	slices.SortFunc(out, func(a, b span) int { return a.first.compare(b.first) })
	return out
}
