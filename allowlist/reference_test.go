package allowlist

import (
	"net/netip"
	"strings"
)

// This file is the plain, obviously-correct walk that FuzzClientIP checks
// the package against. It favours clarity over speed: it splits, joins and
// leans on netip.ParseAddrPort.

// referenceClientIP applies the rules of the package documentation to a
// peer and the lines of the configured header.
func referenceClientIP(peer string, kind headerKind, lines []string) (netip.Addr, bool) {
	p, ok := referenceParse(peer, true)
	if !ok {
		return netip.Addr{}, false
	}
	if kind == headerNone || !trusted(p) {
		return p, true
	}
	if len(lines) == 0 {
		return netip.Addr{}, false
	}
	var entries []string // a list of addresses, or of Forwarded elements
	switch kind {
	case headerXFF:
		entries = strings.Split(strings.Join(lines, ","), ",")
	case headerForwarded:
		for _, line := range lines {
			elements, ok := referenceSplit(line, ',')
			entries = append(entries, elements...)
			if len(entries) > fuzzMaxHops {
				return netip.Addr{}, false
			}
			if !ok {
				return netip.Addr{}, false
			}
		}
	default:
		entries = lines[len(lines)-1:]
		if len(lines) > fuzzMaxHops {
			return netip.Addr{}, false
		}
	}
	if len(entries) > fuzzMaxHops {
		return netip.Addr{}, false
	}
	for i := len(entries) - 1; i >= 0; i-- {
		var a netip.Addr
		var ok bool
		if kind == headerForwarded {
			a, ok = referenceForwardedElement(entries[i])
		} else {
			a, ok = referenceParse(strings.Trim(entries[i], " \t"), true)
			ok = ok && len(entries[i]) <= 128 // whitespace included
		}
		if !ok {
			return netip.Addr{}, false
		}
		if !trusted(a) {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// referenceParse parses "ip", "ip:port", "[ipv6]" or "[ipv6]:port", and
// bare IPv6 if allowed, with netip's own parsers.
func referenceParse(s string, bareIPv6 bool) (netip.Addr, bool) {
	if len(s) > 128 {
		return netip.Addr{}, false
	}
	var a netip.Addr
	bracketed := strings.HasPrefix(s, "[")
	if ap, err := netip.ParseAddrPort(s); err == nil {
		_, port, _ := strings.Cut(s[strings.LastIndex(s, "]")+1:], ":")
		if len(port) > 5 || strings.ContainsAny(port, "+-") {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	} else if bracketed && strings.HasSuffix(s, "]") {
		a, err = netip.ParseAddr(s[1 : len(s)-1])
		if err != nil || !a.Is6() {
			return netip.Addr{}, false
		}
	} else if b, err := netip.ParseAddr(s); err == nil && !bracketed && (b.Is4() || bareIPv6) {
		a = b
	} else {
		return netip.Addr{}, false
	}
	if z := a.Zone(); strings.TrimFunc(z, isZoneRune) != "" {
		return netip.Addr{}, false
	}
	a = a.WithZone("").Unmap()
	return a, !a.IsUnspecified()
}

// referenceSplit splits s at each sep outside quoted strings, reading left
// to right as RFC 7239 is written; ok is false if a quote is left open or
// a backslash stands outside quotes.
func referenceSplit(s string, sep byte) (parts []string, ok bool) {
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == '\\':
			return append(parts, s[start:]), false
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:]), !quoted
}

// referenceForwardedElement returns the address of the single for= of an
// element, following the grammar of RFC 7239 with optional whitespace
// around semicolons.
func referenceForwardedElement(element string) (netip.Addr, bool) {
	var fors []string
	pairs, _ := referenceSplit(element, ';') // the line was checked whole
	for _, pair := range pairs {
		pair = strings.Trim(pair, " \t")
		if pair == "" {
			continue
		}
		name, value, found := strings.Cut(pair, "=")
		if !found || name == "" || strings.TrimFunc(name, isTcharRune) != "" {
			return netip.Addr{}, false
		}
		value, ok := referenceValue(value)
		if !ok {
			return netip.Addr{}, false
		}
		if strings.ToLower(name) == "for" {
			fors = append(fors, value)
		}
	}
	if len(fors) != 1 {
		return netip.Addr{}, false
	}
	return referenceParse(fors[0], false)
}

// referenceValue decodes a token or a quoted string.
func referenceValue(v string) (string, bool) {
	if !strings.HasPrefix(v, `"`) {
		return v, v != "" && strings.TrimFunc(v, isTcharRune) == ""
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", false
	}
	var out []byte
	for i := 1; i < len(v)-1; i++ {
		switch c := v[i]; {
		case c == '\\':
			i++
			if i == len(v)-1 || !isVisibleOrBlank(v[i]) {
				return "", false
			}
			out = append(out, v[i])
		case c == '"' || !isVisibleOrBlank(c):
			return "", false
		default:
			out = append(out, c)
		}
	}
	return string(out), true
}

// isVisibleOrBlank reports whether c is a space, a tab, a visible ASCII
// character or a byte of non-ASCII text.
func isVisibleOrBlank(c byte) bool {
	return c == '\t' || c >= ' ' && c != 0x7f
}

func isTcharRune(r rune) bool {
	return r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!#$%&'*+-.^_`|~", r))
}

// isZoneRune reports whether r may appear in a zone (RFC 6874's ZoneID,
// with its percent-encoding).
func isZoneRune(r rune) bool {
	return r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-._~%", r))
}
