package jsonobj

import (
	"bytes"
	"unicode"
	"unicode/utf8"
)

// A handler that decodes a callback into a struct with a field tagged
// `json:"signature"` fills that field from a member named "signature", and
// failing an exact match from any member whose name equals it under
// bytes.EqualFold: "Signature", "SIGNATURE", and also "ſignature", whose
// first letter is U+017F LATIN SMALL LETTER LONG S (encoding/json's
// foldName folds every rune to the smallest of its simple-fold orbit, and
// that orbit is {S, s, ſ}; the Kelvin sign K U+212A is the other non-ASCII
// rune that folds to an ASCII letter). Such a member must be found, or a
// handler reads a value nobody checked.

// signedName is what the name of a top-level member means to FindSigned.
type signedName uint8

const (
	otherName     signedName = iota
	signatureName            // decodes to exactly "signature"
	timestampName            // decodes to exactly "timestamp"
	caseVariant              // folds to "signature" or "timestamp" without being it
)

// Both names are nine ASCII letters. Every character of a matching name
// decodes to one of those letters from at least one byte of the raw token
// and at most six ("\u0053"). Without a backslash, each is one byte, or
// two for ſ (0xC5 0xBF), the only non-ASCII rune in the fold orbit of a
// letter of either name (K's letter, k, is in neither; an invalid byte
// decodes to U+FFFD, which folds to nothing else). These bounds keep the
// common path to a few comparisons.
const (
	signedNameLen = 9
	maxEscapedLen = 6 * signedNameLen
	longS0        = 0xC5 // ſ is U+017F, "\xc5\xbf" in UTF-8
)

// nameOf classifies the raw key token of a member, as encoding/json would
// match it against struct fields named "signature" and "timestamp". It does
// not allocate.
func nameOf(raw []byte) signedName {
	body := raw[1 : len(raw)-1]
	if len(body) < signedNameLen || len(body) > maxEscapedLen {
		return otherName
	}
	if len(body) == signedNameLen {
		switch string(body) {
		case "signature":
			return signatureName
		case "timestamp":
			return timestampName
		}
	}
	// A match starts with s, S, t, T, ſ or an escape; c|0x20 is 's' or
	// 't' for those four letters only.
	if c := body[0]; c|0x20 != 's' && c|0x20 != 't' && c != longS0 && c != '\\' {
		return otherName
	}
	if bytes.IndexByte(body, '\\') < 0 {
		switch {
		case len(body) == signedNameLen:
			// Nine plain bytes are nine ASCII letters or no match; a
			// byte whose c|0x20 is a lower-case letter is that letter
			// in either case.
			if lowerEquals(body, "signature") || lowerEquals(body, "timestamp") {
				return caseVariant
			}
			return otherName
		case len(body) > signedNameLen+1 || bytes.IndexByte(body, longS0) < 0:
			return otherName
		}
	}
	for _, n := range [...]struct {
		name  string
		exact signedName
	}{{"signature", signatureName}, {"timestamp", timestampName}} {
		switch exact, folded := equalFold(body, n.name); {
		case exact:
			return n.exact
		case folded:
			return caseVariant
		}
	}
	return otherName
}

// lowerEquals reports whether body is name, a lower-case ASCII word, in any
// mix of cases.
func lowerEquals(body []byte, name string) bool {
	if len(body) != len(name) {
		return false
	}
	for i := range len(name) {
		if body[i]|0x20 != name[i] {
			return false
		}
	}
	return true
}

// equalFold reports whether the string body of a scanned token decodes to
// name (exact), and whether it does under encoding/json's case-insensitive
// name matching, which is bytes.EqualFold (folded). name must be ASCII.
func equalFold(body []byte, name string) (exact, folded bool) {
	exact = true
	j := 0
	for i := 0; i < len(body); j++ {
		var r rune
		r, i = nextRune(body, i)
		if j == len(name) {
			return false, false
		}
		if r != rune(name[j]) {
			exact = false
			if foldRune(r) != foldRune(rune(name[j])) {
				return false, false
			}
		}
	}
	if j != len(name) {
		return false, false
	}
	return exact, true
}

// foldRune returns the smallest rune of r's simple-fold orbit, as
// encoding/json's foldRune does: two names match case-insensitively when
// their runes fold alike one by one.
func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	for {
		r2 := unicode.SimpleFold(r)
		if r2 <= r {
			return r2
		}
		r = r2
	}
}
