package allowlist

import (
	"net/netip"
	"strings"
)

// maxEntryLen bounds one address as written in RemoteAddr or a header,
// port, zone and surrounding whitespace included. The longest sensible
// form, "[0000:0000:0000:0000:0000:ffff:255.255.255.255%zone]:65535", is
// about 70 bytes; longer entries are refused before any parsing.
const maxEntryLen = 128

// parseHostPort parses an address as RemoteAddr or X-Forwarded-For write
// it: "192.0.2.1", "192.0.2.1:80", "[2001:db8::1]", "[2001:db8::1]:80" and,
// if bareIPv6, "2001:db8::1". An IPv6 address may carry a zone (see
// validZone). It returns the address unmapped and without zone. It refuses
// everything else: an empty or over-long string, an invalid port, IPv4 in
// brackets or with a zone, unspecified addresses, and every form
// netip.ParseAddr refuses (127.1, 0x7f.0.0.1, 010.0.0.1, hostnames,
// non-ASCII digits).
func parseHostPort(s string, bareIPv6 bool) (netip.Addr, bool) {
	if s == "" || len(s) > maxEntryLen {
		return netip.Addr{}, false
	}
	if a, ok := parseIPv4Port(s); ok {
		return a, !a.IsUnspecified()
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
		if !validZone(host[i+1:]) {
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

// parseIPv4Port parses the common case "192.0.2.1" or "192.0.2.1:80" in
// one pass; on the hot path it saves a third of netip.ParseAddr's time and
// the separate port split. It accepts
// exactly the dotted quads that netip.ParseAddr accepts (four decimal
// fields of 0 to 255 without leading zeros); for anything else it returns
// false and parseHostPort takes the general path, which decides.
func parseIPv4Port(s string) (netip.Addr, bool) {
	var ip [4]byte
	i := 0
	for field := range ip {
		if field > 0 {
			if i == len(s) || s[i] != '.' {
				return netip.Addr{}, false
			}
			i++
		}
		// One to three digits; s[i]-'0' > 9 for every non-digit byte.
		if i == len(s) || s[i]-'0' > 9 {
			return netip.Addr{}, false
		}
		v := uint(s[i] - '0')
		i++
		if i < len(s) && s[i]-'0' <= 9 {
			if v == 0 {
				return netip.Addr{}, false // leading zero
			}
			v = v*10 + uint(s[i]-'0')
			i++
			if i < len(s) && s[i]-'0' <= 9 {
				v = v*10 + uint(s[i]-'0')
				i++
				if v > 255 {
					return netip.Addr{}, false
				}
			}
		}
		ip[field] = byte(v)
	}
	if i < len(s) && (s[i] != ':' || !validPort(s[i+1:])) {
		return netip.Addr{}, false
	}
	return netip.AddrFrom4(ip), true
}

// validZone reports whether z is a plausible IPv6 zone: an interface name
// or number, possibly percent-encoded as in URLs ("%25eth0"). It allows
// the characters of RFC 6874's ZoneID: letters, digits, "-._~" and "%".
func validZone(z string) bool {
	if z == "" {
		return false
	}
	for i := 0; i < len(z); i++ {
		switch c := z[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_', c == '~', c == '%':
		default:
			return false
		}
	}
	return true
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
