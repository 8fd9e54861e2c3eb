package jsonobj

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// KeyEquals reports whether the raw string token (quotes included), once
// decoded as encoding/json decodes it, equals name. It does not allocate.
// name must be ASCII without a backslash, as member names of Smile ID's
// protocol are. raw must be a string token as Scan returns it: like
// Unquote, KeyEquals may panic on one that is not valid JSON.
func KeyEquals(raw []byte, name string) bool {
	body, ok := stringBody(raw)
	if !ok {
		return false
	}
	if string(body) == name {
		return true
	}
	// Without escapes, a body decodes to itself with invalid UTF-8 turned
	// into U+FFFD: never to an ASCII name it does not already spell.
	if bytes.IndexByte(body, '\\') < 0 {
		return false
	}
	// An escape produces at least 1 byte from at most 6: a body over 6
	// bytes per name byte cannot match.
	if len(body) > 6*len(name) {
		return false
	}
	j := 0
	for i := 0; i < len(body); {
		var r rune
		r, i = nextRune(body, i)
		var buf [utf8.UTFMax]byte
		n := utf8.EncodeRune(buf[:], r)
		if j+n > len(name) || string(buf[:n]) != name[j:j+n] {
			return false
		}
		j += n
	}
	return j == len(name)
}

// Unquote decodes the raw string token (quotes included) as encoding/json
// does: escapes resolved, invalid UTF-8 and unpaired surrogates replaced by
// U+FFFD. It reports false if raw is not a string token. raw is assumed to
// have passed Scan.
func Unquote(raw []byte) (string, bool) {
	body, ok := stringBody(raw)
	if !ok {
		return "", false
	}
	if isPlainASCII(body) {
		return string(body), true
	}
	out := make([]byte, 0, len(body)+8)
	for i := 0; i < len(body); {
		var r rune
		r, i = nextRune(body, i)
		out = utf8.AppendRune(out, r)
	}
	return string(out), true
}

func stringBody(raw []byte) ([]byte, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return nil, false
	}
	return raw[1 : len(raw)-1], true
}

// isPlainASCII reports whether body decodes to itself: ASCII and no escapes.
func isPlainASCII(body []byte) bool {
	if bytes.IndexByte(body, '\\') >= 0 {
		return false
	}
	for _, c := range body {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// nextRune decodes the character at body[i] of a scanned string body and
// returns it with the offset of the next one, following encoding/json's
// unquote exactly.
func nextRune(body []byte, i int) (rune, int) {
	c := body[i]
	if c == '\\' {
		switch body[i+1] {
		case 'b':
			return '\b', i + 2
		case 'f':
			return '\f', i + 2
		case 'n':
			return '\n', i + 2
		case 'r':
			return '\r', i + 2
		case 't':
			return '\t', i + 2
		case 'u':
			r, _ := hex4(body, i+2)
			if !utf16.IsSurrogate(r) {
				return r, i + 6
			}
			if i+12 <= len(body) && body[i+6] == '\\' && body[i+7] == 'u' {
				if r2, ok := hex4(body, i+8); ok {
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						return dec, i + 12
					}
				}
			}
			return utf8.RuneError, i + 6
		default: // '"', '\\', '/'
			return rune(body[i+1]), i + 2
		}
	}
	if c < utf8.RuneSelf {
		return rune(c), i + 1
	}
	r, n := utf8.DecodeRune(body[i:])
	return r, i + n // an invalid byte decodes as (RuneError, 1)
}
