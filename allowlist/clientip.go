package allowlist

import (
	"net/http"
	"net/netip"
	"strings"
)

// headerKind says how the configured forwarding header is read.
type headerKind uint8

const (
	headerNone      headerKind = iota // no header: the peer is the client
	headerXFF                         // X-Forwarded-For: a comma-separated list
	headerForwarded                   // Forwarded (RFC 7239)
	headerSingle                      // one address, such as X-Real-IP
)

// clientIP resolves the client address of r by the right-most-untrusted
// rule. It never falls back: any doubt is an error.
func (s *snapshot) clientIP(r *http.Request) (netip.Addr, error) {
	peer, ok := parseHostPort(r.RemoteAddr, true)
	if !ok {
		return netip.Addr{}, ErrBadPeer
	}
	if s.kind == headerNone || !s.trusted.contains(peer) {
		return peer, nil
	}
	// The key was canonicalised once in New; Go's server stores header
	// names canonicalised, so a direct map access finds them.
	values := r.Header[s.header]
	if len(values) == 0 {
		return netip.Addr{}, ErrNoHeader
	}
	switch s.kind {
	case headerXFF:
		return s.fromXFF(values)
	case headerForwarded:
		return s.fromForwarded(values)
	default:
		return s.fromSingle(values)
	}
}

// fromXFF walks X-Forwarded-For lines last to first and the entries of
// each line right to left, and returns the first entry that is not a
// trusted proxy. Each step reads one entry of at most maxEntryLen bytes, so
// the walk costs O(MaxHops) whatever the size of the header; the entries
// left of the client are only counted.
func (s *snapshot) fromXFF(values []string) (netip.Addr, error) {
	hops := 0
	for i := len(values) - 1; i >= 0; i-- {
		line := values[i]
		for {
			if hops++; hops > s.maxHops {
				return netip.Addr{}, ErrTooManyHops
			}
			comma := lastComma(line)
			a, ok := parseEntry(line[comma+1:])
			if !ok {
				return netip.Addr{}, ErrBadHeader
			}
			if !s.trusted.contains(a) {
				left := s.maxHops - hops
				if comma >= 0 {
					left -= countEntries(line[:comma], left)
				}
				for _, v := range values[:i] {
					if left < 0 {
						break
					}
					left -= countEntries(v, left)
				}
				if left < 0 {
					return netip.Addr{}, ErrTooManyHops
				}
				return a, nil
			}
			if comma < 0 {
				break
			}
			line = line[:comma]
		}
	}
	return netip.Addr{}, ErrAllTrusted
}

// fromSingle reads a header that holds one address, such as X-Real-IP. If
// it occurs on several lines, the last one, added by the proxy nearest to
// us, counts.
func (s *snapshot) fromSingle(values []string) (netip.Addr, error) {
	if len(values) > s.maxHops {
		return netip.Addr{}, ErrTooManyHops
	}
	a, ok := parseEntry(values[len(values)-1])
	if !ok {
		return netip.Addr{}, ErrBadHeader
	}
	if s.trusted.contains(a) {
		return netip.Addr{}, ErrAllTrusted
	}
	return a, nil
}

// lastComma returns the index of the last comma in s, looking no further
// back than one entry of maxEntryLen bytes: -1 means either no comma or an
// entry too long, which parseEntry then refuses.
func lastComma(s string) int {
	for i := len(s) - 1; i >= 0 && len(s)-i <= maxEntryLen+1; i-- {
		if s[i] == ',' {
			return i
		}
	}
	return -1
}

// countEntries returns the number of comma-separated entries in s, or any
// number above limit once it is clear there are more than limit.
func countEntries(s string, limit int) int {
	n := 1
	for n <= limit {
		i := strings.IndexByte(s, ',')
		if i < 0 {
			break
		}
		n++
		s = s[i+1:]
	}
	return n
}

// parseEntry parses one entry of X-Forwarded-For or a single-address
// header: an address as parseHostPort takes it, with optional whitespace
// around, maxEntryLen bytes in all.
func parseEntry(entry string) (netip.Addr, bool) {
	if len(entry) > maxEntryLen {
		return netip.Addr{}, false
	}
	return parseHostPort(trimOWS(entry), true)
}
