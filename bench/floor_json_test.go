package bench

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strings"
)

// The floor's refusals of a body, all answered 400.
var (
	errFloorJSON       = errors.New("floor: not one valid JSON object")
	errFloorMissing    = errors.New("floor: signature or timestamp missing")
	errFloorDuplicate  = errors.New("floor: signature or timestamp present twice")
	errFloorCaseFolded = errors.New("floor: a member named signature or timestamp but for case")
	errFloorNotString  = errors.New("floor: signature or timestamp not a string")
	errFloorTooLong    = errors.New("floor: signature or timestamp too long")
)

// floorMaxDepth is encoding/json's nesting limit: a document nested deeper
// is invalid there, so it is invalid here.
const floorMaxDepth = 10000

// floorScan returns the decoded contents of the top-level "signature" and
// "timestamp" string members of doc, in one forward pass over its bytes.
// doc must be exactly one JSON object as encoding/json judges it (json.Valid,
// which lets invalid UTF-8 through inside strings), each member must be
// there once, and no other top-level member may have either name but for
// case, after escapes and Unicode case folding, as encoding/json matches
// names to fields. A body that passes decodes to the same two values under
// every JSON decoder a handler might use.
//
// The returned slices are within doc, as they are, unless a value holds
// escapes: then they are decoded copies, which no genuine callback needs.
// As they are is as decoded but for invalid UTF-8, which encoding/json
// turns into U+FFFD and which neither a signature nor a timestamp can hold.
func floorScan(doc []byte) (signature, timestamp []byte, err error) {
	var signatureToken, timestampToken []byte
	var signatureEscaped, timestampEscaped bool
	i := skipSpace(doc, 0)
	if i >= len(doc) || doc[i] != '{' {
		return nil, nil, errFloorJSON
	}
	i = skipSpace(doc, i+1)
	if i < len(doc) && doc[i] == '}' {
		i++
	} else {
		for {
			if i >= len(doc) || doc[i] != '"' {
				return nil, nil, errFloorJSON
			}
			keyStart := i
			keyEnd, keyEscaped, ok := skipString(doc, i)
			if !ok {
				return nil, nil, errFloorJSON
			}
			if i = skipSpace(doc, keyEnd); i >= len(doc) || doc[i] != ':' {
				return nil, nil, errFloorJSON
			}
			valueStart := skipSpace(doc, i+1)
			valueEnd, valueEscaped, ok := skipValue(doc, valueStart)
			if !ok {
				return nil, nil, errFloorJSON
			}
			switch memberName(doc[keyStart:keyEnd], keyEscaped) {
			case nameSignature:
				if signatureToken != nil {
					return nil, nil, errFloorDuplicate
				}
				signatureToken, signatureEscaped = doc[valueStart:valueEnd], valueEscaped
			case nameTimestamp:
				if timestampToken != nil {
					return nil, nil, errFloorDuplicate
				}
				timestampToken, timestampEscaped = doc[valueStart:valueEnd], valueEscaped
			case nameFolded:
				return nil, nil, errFloorCaseFolded
			}
			if i = skipSpace(doc, valueEnd); i >= len(doc) {
				return nil, nil, errFloorJSON
			}
			if doc[i] == ',' {
				i = skipSpace(doc, i+1)
				continue
			}
			if doc[i] != '}' {
				return nil, nil, errFloorJSON
			}
			i++
			break
		}
	}
	if skipSpace(doc, i) != len(doc) {
		return nil, nil, errFloorJSON
	}
	if signatureToken == nil || timestampToken == nil {
		return nil, nil, errFloorMissing
	}
	if signature, err = stringContents(signatureToken, signatureEscaped); err != nil {
		return nil, nil, err
	}
	if timestamp, err = stringContents(timestampToken, timestampEscaped); err != nil {
		return nil, nil, err
	}
	return signature, timestamp, nil
}

// stringContents returns what the value token decodes to, if it is a
// string of at most 64 characters, however escaped.
func stringContents(token []byte, escaped bool) ([]byte, error) {
	switch {
	case token[0] != '"':
		return nil, errFloorNotString
	case !escaped:
		return token[1 : len(token)-1], nil
	case len(token) > 6*64+2: // "\u0041" is six bytes for one
		return nil, errFloorTooLong
	}
	var s string
	if err := json.Unmarshal(token, &s); err != nil {
		return nil, errFloorJSON // not reached: the token was checked
	}
	return []byte(s), nil
}

type name int

const (
	nameOther name = iota
	nameSignature
	nameTimestamp
	nameFolded // either, but for case
)

// memberName tells a top-level member's key token, quotes included, by
// what it decodes to. Both names have 9 ASCII letters, so a key of 9 raw
// bytes matches only byte for byte (an escape or a multi-byte character
// would leave fewer than 9 characters), and a longer one only if it holds
// an escape or a byte outside ASCII: then, and only then, it is decoded.
func memberName(token []byte, escaped bool) name {
	key := token[1 : len(token)-1]
	switch {
	case len(key) < 9:
		return nameOther
	case len(key) == 9:
		switch string(key) {
		case "signature":
			return nameSignature
		case "timestamp":
			return nameTimestamp
		}
		if asciiEqualFold(key, "signature") || asciiEqualFold(key, "timestamp") {
			return nameFolded
		}
		return nameOther
	}
	if !escaped {
		ascii := true
		for _, c := range key {
			ascii = ascii && c < 0x80
		}
		if ascii {
			return nameOther
		}
	}
	var s string
	if err := json.Unmarshal(token, &s); err != nil {
		return nameOther // not reached: the token was checked
	}
	switch {
	case s == "signature":
		return nameSignature
	case s == "timestamp":
		return nameTimestamp
	case strings.EqualFold(s, "signature"), strings.EqualFold(s, "timestamp"):
		// strings.EqualFold folds as encoding/json's name matching does.
		return nameFolded
	}
	return nameOther
}

// asciiEqualFold reports whether key is name but for the case of its
// ASCII letters; name is lower case.
func asciiEqualFold(key []byte, name string) bool {
	for i, c := range key {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != name[i] {
			return false
		}
	}
	return true
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

// Eight bytes at a time.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// skipString returns the index just past the string token that opens at
// doc[i] (a '"'), whether it holds an escape, and whether it is a valid
// token. It looks at eight bytes at a time for the three that matter (a
// quote, a backslash, a control character) and at single bytes only
// around them and in the last seven.
func skipString(doc []byte, i int) (end int, escaped, ok bool) {
	i++
	for {
		for i+8 <= len(doc) {
			w := binary.LittleEndian.Uint64(doc[i:])
			quote, backslash := w^(ones*'"'), w^(ones*'\\')
			// The high bit of each byte that is zero, or under 0x20; the
			// lowest one set is exact (a borrow only runs upwards).
			special := ((quote - ones) &^ quote) | ((backslash - ones) &^ backslash) | ((w - ones*0x20) &^ w)
			if special &= highs; special != 0 {
				i += bits.TrailingZeros64(special) >> 3
				break
			}
			i += 8
		}
		if i >= len(doc) {
			return 0, false, false
		}
		switch c := doc[i]; {
		case c == '"':
			return i + 1, escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(doc) {
				return 0, false, false
			}
			switch doc[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(doc) || !isHex(doc[i+2]) || !isHex(doc[i+3]) || !isHex(doc[i+4]) || !isHex(doc[i+5]) {
					return 0, false, false
				}
				i += 6
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		default:
			i++
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// skipValue returns the index just past the JSON value that starts at
// doc[i], nested in the top-level object, whether it is a string that
// holds an escape, and whether it is valid. It keeps its own stack of open
// containers rather than recursing.
func skipValue(doc []byte, i int) (end int, escaped, ok bool) {
	start := i
	var small [64]byte
	open := small[:0] // '{' or '[' for each container open within the value
values:
	for {
		if i >= len(doc) {
			return 0, false, false
		}
		switch c := doc[i]; c {
		case '"':
			if i, escaped, ok = skipString(doc, i); !ok {
				return 0, false, false
			}
		case '{', '[':
			if 1+len(open)+1 > floorMaxDepth { // the top-level object is the first
				return 0, false, false
			}
			open = append(open, c)
			i = skipSpace(doc, i+1)
			if i < len(doc) && doc[i] == c+2 { // '}' is '{'+2, ']' is '['+2
				open = open[:len(open)-1]
				i++
				break
			}
			if c == '{' {
				if i, ok = skipKey(doc, i); !ok {
					return 0, false, false
				}
			}
			continue values
		case 't':
			if i, ok = skipLiteral(doc, i, "true"); !ok {
				return 0, false, false
			}
		case 'f':
			if i, ok = skipLiteral(doc, i, "false"); !ok {
				return 0, false, false
			}
		case 'n':
			if i, ok = skipLiteral(doc, i, "null"); !ok {
				return 0, false, false
			}
		default:
			if i, ok = skipNumber(doc, i); !ok {
				return 0, false, false
			}
		}
		// After a value: close what it ends, or go on to the next one.
		for len(open) > 0 {
			if i = skipSpace(doc, i); i >= len(doc) {
				return 0, false, false
			}
			top := open[len(open)-1]
			switch doc[i] {
			case ',':
				i = skipSpace(doc, i+1)
				if top == '{' {
					if i, ok = skipKey(doc, i); !ok {
						return 0, false, false
					}
				}
				continue values
			case top + 2:
				open = open[:len(open)-1]
				i++
			default:
				return 0, false, false
			}
		}
		return i, escaped && doc[start] == '"', true
	}
}

// skipKey skips a member's key and its colon, and the space after it.
func skipKey(doc []byte, i int) (int, bool) {
	if i >= len(doc) || doc[i] != '"' {
		return 0, false
	}
	i, _, ok := skipString(doc, i)
	if !ok {
		return 0, false
	}
	if i = skipSpace(doc, i); i >= len(doc) || doc[i] != ':' {
		return 0, false
	}
	return skipSpace(doc, i+1), true
}

func skipLiteral(doc []byte, i int, literal string) (int, bool) {
	if len(doc)-i < len(literal) || string(doc[i:i+len(literal)]) != literal {
		return 0, false
	}
	return i + len(literal), true
}

// skipNumber skips -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; what
// may follow it is the caller's to check.
func skipNumber(doc []byte, i int) (int, bool) {
	if i < len(doc) && doc[i] == '-' {
		i++
	}
	switch {
	case i >= len(doc):
		return 0, false
	case doc[i] == '0':
		i++
	case '1' <= doc[i] && doc[i] <= '9':
		i = skipDigits(doc, i+1)
	default:
		return 0, false
	}
	if i < len(doc) && doc[i] == '.' {
		j := skipDigits(doc, i+1)
		if j == i+1 {
			return 0, false
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
			return 0, false
		}
		i = j
	}
	return i, true
}

func skipDigits(doc []byte, i int) int {
	for i < len(doc) && '0' <= doc[i] && doc[i] <= '9' {
		i++
	}
	return i
}
