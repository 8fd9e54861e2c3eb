package allowlist

import (
	"net/netip"
	"strings"
)

// This file reads the Forwarded header of RFC 7239:
//
//	Forwarded: for=192.0.2.60;proto=https;by=203.0.113.43, for="[2001:db8::17]:4711"
//
// Elements are separated by commas, the pairs of an element by semicolons;
// a value is a token or a quoted string with backslash escapes. Only the
// for= parameter is used; the others must be well-formed and are ignored.

// fromForwarded walks Forwarded lines last to first and the elements of
// each line right to left, and returns the first for= address that is not
// a trusted proxy.
func (s *snapshot) fromForwarded(values []string) (netip.Addr, error) {
	n := 0
	for _, v := range values {
		count, ok := countForwarded(v, s.maxHops-n)
		n += count
		if n > s.maxHops {
			return netip.Addr{}, ErrTooManyHops
		}
		if !ok {
			return netip.Addr{}, ErrBadHeader
		}
	}
	for i := len(values) - 1; i >= 0; i-- {
		line := values[i]
		quoted := strings.IndexByte(line, '"') >= 0
		for {
			rest, element, more := cutLastElement(line, quoted)
			a, ok := parseForwardedElement(trimOWS(element))
			if !ok {
				return netip.Addr{}, ErrBadHeader
			}
			if !s.trusted.contains(a) {
				return a, nil
			}
			if !more {
				break
			}
			line = rest
		}
	}
	return netip.Addr{}, ErrAllTrusted
}

// countForwarded returns the number of elements in the Forwarded line s,
// or any number above limit once it is clear there are more than limit.
// ok is false if a quoted string is left open or a backslash stands
// outside one: cutLastElement relies on neither happening.
func countForwarded(s string, limit int) (n int, ok bool) {
	if strings.IndexByte(s, '"') < 0 && strings.IndexByte(s, '\\') < 0 {
		return countEntries(s, limit), true
	}
	n = 1
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++ // skip the escaped byte
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '\\':
			return n, false
		case c == ',':
			n++
			if n > limit {
				return n, true
			}
		}
	}
	return n, !quoted
}

// cutLastElement splits s at its last comma outside a quoted string; only
// if quoted, s holds quoted strings. s must have passed countForwarded.
// Seen from the right, a quote closes a quoted string, and the quote that
// opens it is the first one to its left preceded by an even number of
// backslashes (an odd number means the last backslash escapes it).
func cutLastElement(s string, quoted bool) (rest, element string, more bool) {
	if !quoted {
		i := strings.LastIndexByte(s, ',')
		return s[:max(i, 0)], s[i+1:], i >= 0
	}
	quoted = false
	for i := len(s) - 1; i >= 0; i-- {
		switch s[i] {
		case '"':
			if !quoted {
				quoted = true
				continue
			}
			j := i
			for j > 0 && s[j-1] == '\\' {
				j--
			}
			if (i-j)%2 == 0 {
				quoted = false
			}
		case ',':
			if !quoted {
				return s[:i], s[i+1:], true
			}
		}
	}
	return "", s, false
}

// parseForwardedElement returns the address of the one for= parameter of
// a Forwarded element. It refuses a malformed element, an element without
// for= or with two, and a node other than an IPv4 address or a bracketed
// IPv6 address, each with an optional numeric port: "unknown", obfuscated
// identifiers ("_hidden") and obfuscated ports are refused.
func parseForwardedElement(element string) (netip.Addr, bool) {
	var node string
	found, escaped := false, false
	for element != "" {
		if element[0] == ';' { // an empty pair, allowed by the grammar
			element = trimOWS(element[1:])
			continue
		}
		name := element[:tokenLen(element)]
		if name == "" || len(name) == len(element) || element[len(name)] != '=' {
			return netip.Addr{}, false
		}
		element = element[len(name)+1:]
		value, hasEscape, n := cutValue(element)
		if n == 0 {
			return netip.Addr{}, false
		}
		element = trimOWS(element[n:])
		if element != "" {
			if element[0] != ';' {
				return netip.Addr{}, false
			}
			element = trimOWS(element[1:])
		}
		if len(name) == 3 && strings.EqualFold(name, "for") {
			if found {
				return netip.Addr{}, false // a second for= is ambiguous
			}
			node, escaped, found = value, hasEscape, true
		}
	}
	if !found || len(node) > 2*maxEntryLen {
		return netip.Addr{}, false
	}
	if escaped {
		node = unescape(node)
	}
	return parseHostPort(node, false)
}

// cutValue reads the token or quoted string at the start of s. It returns
// the value (a quoted string without its quotes and still escaped),
// whether it holds escapes, and the number of bytes read: 0 if s does not
// start with a well-formed value.
func cutValue(s string) (value string, escaped bool, n int) {
	if s == "" || s[0] != '"' {
		n = tokenLen(s)
		return s[:n], false, n
	}
	for i := 1; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return s[1:i], escaped, i + 1
		case c == '\\':
			i++
			if i == len(s) || !isQuotedPairChar(s[i]) {
				return "", false, 0
			}
			escaped = true
		case !isQdtext(c):
			return "", false, 0
		}
	}
	return "", false, 0 // no closing quote
}

// unescape removes the backslashes of quoted pairs. It allocates, but only
// a for= value with escapes, which no proxy writes, gets here.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// tokenLen returns the length of the RFC 9110 token at the start of s.
func tokenLen(s string) int {
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return i
		}
	}
	return len(s)
}

// isTchar reports whether c may appear in a token (RFC 9110, section 5.6.2).
func isTchar(c byte) bool { return tchars[c] }

var tchars = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c], t[c-'a'+'A'] = true, true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		t[c] = true
	}
	return t
}()

// isQdtext reports whether c may appear unescaped in a quoted string.
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || 0x23 <= c && c <= 0x5b || 0x5d <= c && c <= 0x7e || c >= 0x80
}

// isQuotedPairChar reports whether c may follow a backslash in a quoted
// string.
func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || 0x21 <= c && c <= 0x7e || c >= 0x80
}
