package signer

import "time"

// TimestampLayout is the layout [FormatTimestamp] writes: UTC with
// milliseconds, the "yyyy-MM-dd'T'HH:mm:ss.fffZ" of Smile ID's documentation
// and JavaScript's toISOString.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// MaxTimestampLen is the longest timestamp [ParseTimestamp] reads; longer input
// is refused before it is looked at.
const MaxTimestampLen = 64

// FormatTimestamp returns t in UTC as [TimestampLayout], the style to send to
// Smile ID.
func FormatTimestamp(t time.Time) string {
	var buf [len(TimestampLayout)]byte
	return string(appendTimestamp(buf[:0], t))
}

// timestampError is a fixed reason why a timestamp was refused. It matches
// ErrBadTimestamp with errors.Is and never repeats the input, which may be
// hostile.
type timestampError string

func (e timestampError) Error() string        { return "signer: bad timestamp: " + string(e) }
func (e timestampError) Is(target error) bool { return target == ErrBadTimestamp }

const (
	errTimestampEmpty      timestampError = "empty"
	errTimestampTooLong    timestampError = "longer than 64 bytes" // MaxTimestampLen
	errTimestampUnixLen    timestampError = "unix time must have 10 (seconds) or 13 (milliseconds) digits"
	errTimestampSyntax     timestampError = "not an RFC 3339, Ruby or unix timestamp"
	errTimestampFraction   timestampError = "fraction must have 1 to 9 digits"
	errTimestampOffset     timestampError = "bad zone offset"
	errTimestampOutOfRange timestampError = "date or time out of range"
)

// ParseTimestamp parses a timestamp in any style Smile ID's SDKs send:
//
//   - RFC 3339 with 0 to 9 fraction digits and "Z" or ±hh:mm:
//     "2026-11-21T10:00:00.000Z", "2026-11-21T10:00:00.123456+00:00",
//     "2026-11-21T10:00:00+01:00", "2026-11-21T10:00:00.123456789Z";
//   - Ruby's Time#to_s, "2026-11-21 10:00:00 +0000";
//   - unix seconds (exactly 10 digits) or milliseconds (exactly 13 digits).
//
// It returns the instant in UTC. Anything else, including input over
// [MaxTimestampLen] bytes, impossible dates such as February 30, offsets of 24
// hours or more, trailing bytes and non-ASCII digits, is refused with an
// error wrapping [ErrBadTimestamp]. [ParseTimestamp] does not allocate.
//
// Only the instant is returned: to check a signature, use the timestamp
// string exactly as received.
func ParseTimestamp(s string) (time.Time, error) {
	switch {
	case s == "":
		return time.Time{}, errTimestampEmpty
	case len(s) > MaxTimestampLen:
		return time.Time{}, errTimestampTooLong
	case isDigits(s):
		n := digits(s)
		switch len(s) {
		case 10:
			return time.Unix(n, 0).UTC(), nil
		case 13:
			return time.UnixMilli(n).UTC(), nil
		}
		return time.Time{}, errTimestampUnixLen
	case len(s) < len("2006-01-02T15:04:05Z"):
		return time.Time{}, errTimestampSyntax
	}

	// yyyy-mm-dd?hh:mm:ss, shared by every calendar style.
	if s[4] != '-' || s[7] != '-' || s[13] != ':' || s[16] != ':' ||
		!isDigits(s[0:4]) || !isDigits(s[5:7]) || !isDigits(s[8:10]) ||
		!isDigits(s[11:13]) || !isDigits(s[14:16]) || !isDigits(s[17:19]) {
		return time.Time{}, errTimestampSyntax
	}
	year, month, day := int(digits(s[0:4])), int(digits(s[5:7])), int(digits(s[8:10]))
	hour, minute, second := int(digits(s[11:13])), int(digits(s[14:16])), int(digits(s[17:19]))

	var nanos, offset int // offset in seconds east of UTC
	switch s[10] {
	case 'T': // RFC 3339
		rest := s[19:]
		if rest[0] == '.' {
			n := 1
			for n < len(rest) && '0' <= rest[n] && rest[n] <= '9' {
				n++
			}
			if n == 1 || n > 10 {
				return time.Time{}, errTimestampFraction
			}
			nanos = int(digits(rest[1:n]))
			for i := n; i < 10; i++ {
				nanos *= 10
			}
			rest = rest[n:]
		}
		switch {
		case rest == "Z":
		case len(rest) == 6 && rest[3] == ':':
			var ok bool
			if offset, ok = zoneOffset(rest[0], rest[1:3], rest[4:6]); !ok {
				return time.Time{}, errTimestampOffset
			}
		default:
			return time.Time{}, errTimestampSyntax
		}
	case ' ': // Ruby: yyyy-mm-dd hh:mm:ss ±hhmm
		rest := s[19:]
		if len(rest) != 6 || rest[0] != ' ' {
			return time.Time{}, errTimestampSyntax
		}
		var ok bool
		if offset, ok = zoneOffset(rest[1], rest[2:4], rest[4:6]); !ok {
			return time.Time{}, errTimestampOffset
		}
	default:
		return time.Time{}, errTimestampSyntax
	}

	if month < 1 || month > 12 || day < 1 || day > daysIn(month, year) ||
		hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, errTimestampOutOfRange
	}
	t := time.Date(year, time.Month(month), day, hour, minute, second, nanos, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), nil
}

// zoneOffset reads ±hh and mm, as Go's time package bounds them: hours below
// 24, minutes below 60.
func zoneOffset(sign byte, hh, mm string) (int, bool) {
	if (sign != '+' && sign != '-') || !isDigits(hh) || !isDigits(mm) {
		return 0, false
	}
	h, m := int(digits(hh)), int(digits(mm))
	if h > 23 || m > 59 {
		return 0, false
	}
	offset := h*3600 + m*60
	if sign == '-' {
		offset = -offset
	}
	return offset, true
}

// isDigits reports whether s is non-empty and all ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// digits returns the value of s, which isDigits and has at most 18 digits.
func digits(s string) int64 {
	var n int64
	for i := 0; i < len(s); i++ {
		n = n*10 + int64(s[i]-'0')
	}
	return n
}

func daysIn(month, year int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// appendTimestamp appends FormatTimestamp(t) to dst without time's layout
// interpreter, which costs as much as the HMAC and allocates. Years outside
// 0000-9999 take FormatTimestamp's own path.
func appendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimestampLayout)
	}
	hour, minute, second := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = appendDigits(append(dst, '-'), int(month), 2)
	dst = appendDigits(append(dst, '-'), day, 2)
	dst = appendDigits(append(dst, 'T'), hour, 2)
	dst = appendDigits(append(dst, ':'), minute, 2)
	dst = appendDigits(append(dst, ':'), second, 2)
	dst = appendDigits(append(dst, '.'), t.Nanosecond()/int(time.Millisecond), 3)
	return append(dst, 'Z')
}

// appendDigits appends n, which is not negative, as exactly width digits.
func appendDigits(dst []byte, n, width int) []byte {
	var buf [4]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, buf[:width]...)
}
