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

// maxEntryLen bounds one address as written in RemoteAddr or a header,
// port and zone included. The longest sensible form,
// "[0000:0000:0000:0000:0000:ffff:255.255.255.255%zone]:65535", is about
// 70 bytes; longer entries are refused before any parsing.
const maxEntryLen = 128

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
// trusted proxy.
func (s *snapshot) fromXFF(values []string) (netip.Addr, error) {
	n := 0
	for _, v := range values {
		n += countEntries(v, s.maxHops-n)
		if n > s.maxHops {
			return netip.Addr{}, ErrTooManyHops
		}
	}
	for i := len(values) - 1; i >= 0; i-- {
		line := values[i]
		for {
			comma := strings.LastIndexByte(line, ',')
			a, ok := parseHostPort(trimOWS(line[comma+1:]), true)
			if !ok {
				return netip.Addr{}, ErrBadHeader
			}
			if !s.trusted.contains(a) {
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
	a, ok := parseHostPort(trimOWS(values[len(values)-1]), true)
	if !ok {
		return netip.Addr{}, ErrBadHeader
	}
	if s.trusted.contains(a) {
		return netip.Addr{}, ErrAllTrusted
	}
	return a, nil
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

// parseHostPort parses an address as RemoteAddr or X-Forwarded-For write
// it: "192.0.2.1", "192.0.2.1:80", "[2001:db8::1]", "[2001:db8::1]:80" and,
// if bareIPv6, "2001:db8::1". An IPv6 address may carry a zone. It returns
// the address unmapped and without zone. It refuses everything else: an
// empty or over-long string, an invalid port, IPv4 in brackets or with a
// zone, unspecified addresses, and every form netip.ParseAddr refuses
// (127.1, 0x7f.0.0.1, 010.0.0.1, hostnames, non-ASCII digits).
func parseHostPort(s string, bareIPv6 bool) (netip.Addr, bool) {
	if s == "" || len(s) > maxEntryLen {
		return netip.Addr{}, false
	}
	host, bracketed := s, false
	if s[0] == '[' {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return netip.Addr{}, false
		}
		if rest := s[end+1:]; rest != "" && (rest[0] != ':' || !validPort(rest[1:])) {
			return netip.Addr{}, false
		}
		host, bracketed = s[1:end], true
	} else if i := strings.IndexByte(s, ':'); i >= 0 && strings.IndexByte(s[i+1:], ':') < 0 {
		// One colon: IPv4 with a port. Two or more: bare IPv6.
		if !validPort(s[i+1:]) {
			return netip.Addr{}, false
		}
		host = s[:i]
	}
	// Cut the zone here rather than let netip.ParseAddr keep it: a zone
	// in an Addr is interned, which is work and memory an attacker could
	// choose.
	zoned := false
	if i := strings.IndexByte(host, '%'); i >= 0 {
		if i == len(host)-1 {
			return netip.Addr{}, false
		}
		host, zoned = host[:i], true
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	if a.Is4() && (bracketed || zoned) || a.Is6() && !bracketed && !bareIPv6 {
		return netip.Addr{}, false
	}
	a = a.Unmap()
	if a.IsUnspecified() {
		return netip.Addr{}, false
	}
	return a, true
}

// validPort reports whether p is a decimal port number, 0 to 65535, of at
// most five ASCII digits.
func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int(c-'0')
	}
	return n <= 65535
}

// trimOWS removes the optional whitespace (spaces and horizontal tabs)
// that HTTP allows around list elements.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}
