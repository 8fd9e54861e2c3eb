package jsonobj

import (
	"encoding/binary"
	"errors"
)

// maxDepth is encoding/json's nesting limit: a document nested deeper is
// invalid there, so it is invalid here too.
const maxDepth = 10000

var (
	// ErrSyntax means the document is not valid JSON, by encoding/json's rules.
	ErrSyntax = errors.New("jsonobj: invalid JSON")
	// ErrNotObject means the document is valid JSON but not an object.
	ErrNotObject = errors.New("jsonobj: JSON value is not an object")
)

// Member is one top-level member of a JSON object, as offsets into the
// scanned document.
type Member struct {
	KeyStart   int // the opening quote of the key
	KeyEnd     int // just after the closing quote of the key
	ValueStart int // the first byte of the value
	ValueEnd   int // just after the last byte of the value
}

// Key returns the raw key token, quotes and escapes included.
func (m Member) Key(doc []byte) []byte { return doc[m.KeyStart:m.KeyEnd] }

// Value returns the raw value.
func (m Member) Value(doc []byte) []byte { return doc[m.ValueStart:m.ValueEnd] }

// Scan checks that doc is exactly one JSON object, optionally surrounded by
// whitespace, and calls visit for each top-level member in document order.
// Scan stops at the first error visit returns and returns it; otherwise it
// returns ErrSyntax for invalid JSON (anywhere in doc, including after the
// members it has visited) and ErrNotObject for valid JSON that is not an
// object. A caller must therefore not act on what it saw until Scan returns
// nil.
func Scan(doc []byte, visit func(Member) error) error {
	i := skipSpace(doc, 0)
	if i >= len(doc) {
		return ErrSyntax
	}
	if doc[i] != '{' {
		if !Valid(doc) {
			return ErrSyntax
		}
		return ErrNotObject
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		return end(doc, i+1)
	}
	for {
		var m Member
		var err error
		m.KeyStart = i
		if i, err = skipString(doc, i); err != nil {
			return err
		}
		m.KeyEnd = i
		i = skipSpace(doc, i)
		if i >= len(doc) || doc[i] != ':' {
			return ErrSyntax
		}
		m.ValueStart = skipSpace(doc, i+1)
		if i, err = skipValue(doc, m.ValueStart, 1); err != nil {
			return err
		}
		m.ValueEnd = i
		if err := visit(m); err != nil {
			return err
		}
		i = skipSpace(doc, i)
		if i >= len(doc) {
			return ErrSyntax
		}
		switch doc[i] {
		case ',':
			i = skipSpace(doc, i+1)
		case '}':
			return end(doc, i+1)
		default:
			return ErrSyntax
		}
	}
}

// Valid reports whether doc is valid JSON, exactly as json.Valid does.
func Valid(doc []byte) bool {
	i, err := skipValue(doc, skipSpace(doc, 0), 0)
	return err == nil && skipSpace(doc, i) == len(doc)
}

// end checks that only whitespace follows the top-level object.
func end(doc []byte, i int) error {
	if skipSpace(doc, i) != len(doc) {
		return ErrSyntax
	}
	return nil
}

func skipSpace(doc []byte, i int) int {
	for i < len(doc) {
		switch doc[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipValue returns the offset just after the JSON value that starts at
// doc[i]. depth is the nesting depth of the value's container.
func skipValue(doc []byte, i, depth int) (int, error) {
	if i >= len(doc) {
		return 0, ErrSyntax
	}
	switch doc[i] {
	case '{', '[':
		return skipContainer(doc, i, depth)
	case '"':
		return skipString(doc, i)
	case 't':
		return skipLiteral(doc, i, "true")
	case 'f':
		return skipLiteral(doc, i, "false")
	case 'n':
		return skipLiteral(doc, i, "null")
	default:
		return skipNumber(doc, i)
	}
}

// skipContainer returns the offset just after the object or array that
// starts at doc[i]. Nested containers are walked with a bit stack (1: object,
// 0: array) instead of recursion, so hostile nesting costs neither goroutine
// stack nor, up to 256 levels, heap.
func skipContainer(doc []byte, i, depth int) (int, error) {
	var kinds bitStack
	base := depth
	var err error
	for {
		// A value starts at i.
		if i >= len(doc) {
			return 0, ErrSyntax
		}
		if c := doc[i]; c == '{' || c == '[' {
			depth++
			if depth > maxDepth {
				return 0, ErrSyntax
			}
			kinds.set(depth-base-1, c == '{')
			i = skipSpace(doc, i+1)
			if i < len(doc) && doc[i] == c+2 { // '{'+2 == '}', '['+2 == ']'
				i++
				depth--
			} else {
				if c == '{' {
					if i, err = skipKey(doc, i); err != nil {
						return 0, err
					}
				}
				continue
			}
		} else if i, err = skipValue(doc, i, depth); err != nil {
			return 0, err
		}
		// A value ended at i: close containers until one continues.
		for {
			if depth == base {
				return i, nil
			}
			i = skipSpace(doc, i)
			if i >= len(doc) {
				return 0, ErrSyntax
			}
			isObject := kinds.get(depth - base - 1)
			c := doc[i]
			if c == ',' {
				i = skipSpace(doc, i+1)
				if isObject {
					if i, err = skipKey(doc, i); err != nil {
						return 0, err
					}
				}
				break
			}
			if (isObject && c == '}') || (!isObject && c == ']') {
				i++
				depth--
				continue
			}
			return 0, ErrSyntax
		}
	}
}

// bitStack records one bit per nesting level: 256 levels inline, the rest
// (up to maxDepth) on the heap.
type bitStack struct {
	inline [4]uint64
	more   []uint64
}

func (s *bitStack) set(level int, bit bool) {
	var w *uint64
	if level < 256 {
		w = &s.inline[level/64]
	} else {
		idx := (level - 256) / 64
		for len(s.more) <= idx {
			s.more = append(s.more, 0)
		}
		w = &s.more[idx]
	}
	if bit {
		*w |= 1 << (level % 64)
	} else {
		*w &^= 1 << (level % 64)
	}
}

func (s *bitStack) get(level int) bool {
	if level < 256 {
		return s.inline[level/64]&(1<<(level%64)) != 0
	}
	return s.more[(level-256)/64]&(1<<(level%64)) != 0
}

// skipKey skips a member name and its colon, and the space after both.
func skipKey(doc []byte, i int) (int, error) {
	i, err := skipString(doc, i)
	if err != nil {
		return 0, err
	}
	i = skipSpace(doc, i)
	if i >= len(doc) || doc[i] != ':' {
		return 0, ErrSyntax
	}
	return skipSpace(doc, i+1), nil
}

func skipLiteral(doc []byte, i int, lit string) (int, error) {
	if len(doc)-i < len(lit) || string(doc[i:i+len(lit)]) != lit {
		return 0, ErrSyntax
	}
	return i + len(lit), nil
}

// plain marks the bytes that may stand unescaped inside a JSON string with
// no further thought: everything but control characters, '"' and '\'.
// Bytes of 0x80 and above are plain: encoding/json accepts invalid UTF-8 in
// strings (and replaces it when decoding), so a validator must too.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// skipString returns the offset just after the string that starts at doc[i].
func skipString(doc []byte, i int) (int, error) {
	if i >= len(doc) || doc[i] != '"' {
		return 0, ErrSyntax
	}
	i++
	for {
		// Eight bytes at a time while none of them ends the plain run:
		// base64 photos make most of a large callback.
		for i+8 <= len(doc) && !hasSpecial(binary.LittleEndian.Uint64(doc[i:])) {
			i += 8
		}
		for i < len(doc) && plain[doc[i]] {
			i++
		}
		if i >= len(doc) {
			return 0, ErrSyntax
		}
		switch doc[i] {
		case '"':
			return i + 1, nil
		case '\\':
			if i+1 >= len(doc) {
				return 0, ErrSyntax
			}
			switch doc[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if _, ok := hex4(doc, i+2); !ok {
					return 0, ErrSyntax
				}
				i += 6
			default:
				return 0, ErrSyntax
			}
		default: // a control character
			return 0, ErrSyntax
		}
	}
}

// hasSpecial reports whether any of the eight bytes in v is '"', '\\' or a
// control character, with the classic bit tricks: (x - 0x01..) & ^x & 0x80..
// is non-zero exactly when some byte of x is zero, and the same with 0x20
// when some byte is below 0x20.
func hasSpecial(v uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	quote := v ^ (ones * '"')
	backslash := v ^ (ones * '\\')
	return ((quote-ones)&^quote|(backslash-ones)&^backslash|(v-ones*0x20)&^v)&highs != 0
}

// hex4 decodes the four hex digits at doc[i:].
func hex4(doc []byte, i int) (rune, bool) {
	if len(doc)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range doc[i : i+4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipNumber returns the offset just after the number that starts at doc[i]:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func skipNumber(doc []byte, i int) (int, error) {
	if i < len(doc) && doc[i] == '-' {
		i++
	}
	switch {
	case i < len(doc) && doc[i] == '0':
		i++
	case i < len(doc) && '1' <= doc[i] && doc[i] <= '9':
		i = skipDigits(doc, i+1)
	default:
		return 0, ErrSyntax
	}
	if i < len(doc) && doc[i] == '.' {
		j := skipDigits(doc, i+1)
		if j == i+1 {
			return 0, ErrSyntax
		}
		i = j
	}
	if i < len(doc) && (doc[i] == 'e' || doc[i] == 'E') {
		i++
		if i < len(doc) && (doc[i] == '+' || doc[i] == '-') {
			i++
		}
		j := skipDigits(doc, i)
		if j == i {
			return 0, ErrSyntax
		}
		i = j
	}
	return i, nil
}

func skipDigits(doc []byte, i int) int {
	for i < len(doc) && '0' <= doc[i] && doc[i] <= '9' {
		i++
	}
	return i
}
