package signer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormatTimestamp(t *testing.T) {
	at := time.Date(2026, 11, 21, 11, 0, 0, 123456789, time.FixedZone("WAT", 3600))
	assert.Equal(t, "2026-11-21T10:00:00.123Z", FormatTimestamp(at))
	assert.Equal(t, "2026-11-21T10:00:00.000Z", FormatTimestamp(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)))
}

func TestParseTimestampAcceptsEverySDKStyle(t *testing.T) {
	base := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Time
	}{
		{"JavaScript toISOString", "2026-11-21T10:00:00.000Z", base},
		{"Python isoformat with microseconds", "2026-11-21T10:00:00.123456+00:00", base.Add(123456 * time.Microsecond)},
		{"Python isoformat without fraction", "2026-11-21T10:00:00+00:00", base},
		{"Ruby Time#to_s", "2026-11-21 10:00:00 +0000", base},
		{"Ruby Time#to_s with an offset", "2026-11-21 11:30:00 +0130", base},
		{"PHP ATOM", "2026-11-21T10:00:00+00:00", base},
		{"Java Instant with nanoseconds", "2026-11-21T10:00:00.123456789Z", base.Add(123456789)},
		{"Java Instant without fraction", "2026-11-21T10:00:00Z", base},
		{"one fraction digit", "2026-11-21T10:00:00.5Z", base.Add(500 * time.Millisecond)},
		{"positive offset", "2026-11-21T11:00:00.123+01:00", base.Add(123 * time.Millisecond)},
		{"negative offset", "2026-11-21T05:00:00-05:00", base},
		{"negative zero offset", "2026-11-21T10:00:00-00:00", base},
		{"largest offsets", "2026-11-22T09:59:00+23:59", base},
		{"offset crossing the year", "2026-12-31T23:00:00-01:00", time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		// PROTOCOL.md's unix examples are 2025-11-21 10:00:00 UTC, a year
		// before its calendar examples.
		{"unix seconds", "1763719200", time.Date(2025, 11, 21, 10, 0, 0, 0, time.UTC)},
		{"unix milliseconds", "1763719200123", time.Date(2025, 11, 21, 10, 0, 0, 123e6, time.UTC)},
		{"unix seconds with leading zeros", "0000000001", time.Unix(1, 0)},
		{"leap day", "2028-02-29T00:00:00Z", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"leap day of a 400-year", "2000-02-29T00:00:00Z", time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"last second of a day", "2026-12-31T23:59:59.999999999Z", time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTimestamp(tt.in)
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s, want %s", got, tt.want)
			assert.Equal(t, time.UTC, got.Location())
		})
	}
}

func TestParseTimestampRefuses(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"over 64 bytes", "2026-11-21T10:00:00." + strings.Repeat("0", 45) + "Z"},
		{"65 digits", strings.Repeat("1", 65)},
		{"February 30", "2026-02-30T10:00:00Z"},
		{"February 29 of a common year", "2026-02-29T10:00:00Z"},
		{"February 29 of a century", "2100-02-29T10:00:00Z"},
		{"April 31", "2026-04-31T10:00:00Z"},
		{"month 13", "2026-13-01T10:00:00Z"},
		{"month 0", "2026-00-01T10:00:00Z"},
		{"day 0", "2026-11-00T10:00:00Z"},
		{"hour 24", "2026-11-21T24:00:00Z"},
		{"minute 60", "2026-11-21T10:60:00Z"},
		{"leap second", "2026-12-31T23:59:60Z"},
		{"offset hour 24", "2026-11-21T10:00:00+24:00"},
		{"offset minute 60", "2026-11-21T10:00:00+01:60"},
		{"Ruby offset hour 24", "2026-11-21 10:00:00 +2400"},
		{"offset without colon", "2026-11-21T10:00:00+0100"},
		{"offset with seconds", "2026-11-21T10:00:00+01:00:00"},
		{"short offset", "2026-11-21T10:00:00+01"},
		{"no zone", "2026-11-21T10:00:00"},
		{"no zone with fraction", "2026-11-21T10:00:00.000"},
		{"lower-case z", "2026-11-21T10:00:00.000z"},
		{"lower-case t", "2026-11-21t10:00:00.000Z"},
		{"zone name", "2026-11-21T10:00:00 UTC"},
		{"Ruby UTC style", "2026-11-21 10:00:00 UTC"},
		{"Ruby style with Z", "2026-11-21 10:00:00Z"},
		{"Ruby style with colon offset", "2026-11-21 10:00:00 +00:00"},
		{"dot without digits", "2026-11-21T10:00:00.Z"},
		{"ten fraction digits", "2026-11-21T10:00:00.1234567890Z"},
		{"comma fraction", "2026-11-21T10:00:00,123Z"},
		{"trailing junk", "2026-11-21T10:00:00.000Zjunk"},
		{"trailing space", "2026-11-21T10:00:00.000Z "},
		{"leading space", " 2026-11-21T10:00:00.000Z"},
		{"trailing newline", "2026-11-21T10:00:00.000Z\n"},
		{"NUL inside", "2026-11-21T10:00:00\x00000Z"},
		{"Unicode digit in year", "２026-11-21T10:00:00Z"},
		{"Arabic-Indic digit", "2026-11-21T10:00:0٠Z"},
		{"Unicode digits in unix time", "١٧٦٣٧١٩٢٠٠"},
		{"short year", "26-11-21T10:00:00Z"},
		{"five-digit year", "20266-11-21T10:00:00Z"},
		{"single-digit month", "2026-1-21T10:00:00.000Z"},
		{"signed year", "+2026-11-21T10:00:00Z"},
		{"date only", "2026-11-21"},
		{"slashes", "2026/11/21T10:00:00Z"},
		{"RFC 1123", "Sat, 21 Nov 2026 10:00:00 GMT"},
		{"unix seconds with 9 digits", "176371920"},
		{"unix seconds with 11 digits", "17637192000"},
		{"unix microseconds", "1763719200123456"},
		{"negative unix seconds", "-763719200"},
		{"fractional unix seconds", "1763719200.5"},
		{"unix seconds with a plus", "+1763719200"},
		{"hex", "0x6920d300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseTimestamp(tt.in)
			require.ErrorIs(t, err, ErrBadTimestamp)
			assert.True(t, got.IsZero())
			assert.True(t, strings.HasPrefix(err.Error(), "signer: bad timestamp"))
			if tt.in != "" {
				assert.NotContains(t, err.Error(), tt.in, "the input is never echoed")
			}
		})
	}
}

func TestParseTimestampDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, in := range []string{"2026-11-21T10:00:00.123456+00:00", "2026-11-21 10:00:00 +0000", "1763719200123", "2026-02-30T10:00:00Z"} {
		allocs := testing.AllocsPerRun(100, func() { _, _ = ParseTimestamp(in) })
		assert.Zero(t, allocs, in)
	}
}

// FuzzParseTimestamp checks that ParseTimestamp never panics, that an
// accepted value formats back to the same instant, and that every RFC 3339
// or Ruby value it accepts, Go's time.Parse accepts as the same instant.
func FuzzParseTimestamp(f *testing.F) {
	// Each SDK's style (PROTOCOL.md): JavaScript, Python, Ruby, PHP, Java,
	// unix seconds and milliseconds.
	f.Add("2026-11-21T10:00:00.000Z")
	f.Add("2026-11-21T10:00:00.123456+00:00")
	f.Add("2026-11-21 10:00:00 +0000")
	f.Add("2026-11-21T10:00:00+00:00")
	f.Add("2026-11-21T10:00:00.123456789Z")
	f.Add("1763719200")
	f.Add("1763719200123")
	// A day that does not exist, and the leap day that does.
	f.Add("2026-02-30T10:00:00Z")
	f.Add("2028-02-29T10:00:00Z")
	// The largest offsets Go accepts, at both ends of the calendar.
	f.Add("9999-12-31T23:59:59-23:59")
	f.Add("0000-01-01T00:00:00+23:59")
	// Each field one past its largest value: hour 24, minute and second 60
	// (no leap seconds), month 13, day 32.
	f.Add("2026-11-21T24:00:00Z")
	f.Add("2026-11-21T23:60:00Z")
	f.Add("2026-12-31T23:59:60Z")
	f.Add("2026-13-01T00:00:00Z")
	f.Add("2026-12-32 00:00:00 +0000")
	// Offsets and fractions just out of bounds: 24 hours, ten digits, none.
	f.Add("2026-11-21T10:00:00+24:00")
	f.Add("2026-11-21T10:00:00.1234567890Z")
	f.Add("2026-11-21T10:00:00.Z")
	// Letters where digits go, in the offset and the date.
	f.Add("2026-11-21T10:00:00+0A:00")
	f.Add("2026-1A-21T10:00:00Z")
	// Unix digits of the wrong length, and input at and over
	// MaxTimestampLen.
	f.Add("176371920")
	f.Add(strings.Repeat("0", MaxTimestampLen))
	f.Add(strings.Repeat("0", MaxTimestampLen+1))
	// Ruby's style with a colon in its offset, and nothing at all.
	f.Add("2026-11-21 10:00:00 +00:00")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTimestamp(s)
		if err != nil {
			if got != (time.Time{}) {
				t.Fatalf("error %v with a non-zero time %v", err, got)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("%q: location %v", s, got.Location())
		}
		if y := got.Year(); y >= 0 && y <= 9999 {
			back, err := ParseTimestamp(got.Format(time.RFC3339Nano))
			if err != nil || !back.Equal(got) {
				t.Fatalf("%q -> %v -> %v, %v", s, got, back, err)
			}
			if ms, err := ParseTimestamp(FormatTimestamp(got)); err != nil || !ms.Equal(got.Truncate(time.Millisecond)) {
				t.Fatalf("%q: FormatTimestamp does not parse back: %v", s, err)
			}
		}
		if len(s) > 10 && (s[10] == 'T' || s[10] == ' ') {
			layout := time.RFC3339Nano
			if s[10] == ' ' {
				layout = "2006-01-02 15:04:05 -0700" // Ruby's Time#to_s
			}
			want, err := time.Parse(layout, s)
			if err != nil || !want.Equal(got) {
				t.Fatalf("%q: ParseTimestamp %v, time.Parse %v, %v", s, got, want, err)
			}
		}
	})
}

func TestTimestampTooLongNamesTheLimit(t *testing.T) {
	assert.Contains(t, errTimestampTooLong.Error(), fmt.Sprintf(" %d ", MaxTimestampLen))
}

// TestAppendTimestampMatchesTheLayout holds the hand-written formatter (used
// by FormatTimestamp and the Transport) to time's own layout interpreter.
func TestAppendTimestampMatchesTheLayout(t *testing.T) {
	times := []time.Time{
		{},
		transportTime,
		time.Date(2023, 2, 13, 15, 7, 42, 214999999, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -5*3600)),
		time.Date(2026, 11, 21, 10, 0, 0, 1, time.FixedZone("", 13*3600+45*60)),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999000000, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Unix(1<<40, 0),
	}
	for i := int64(0); i < 2000; i++ {
		times = append(times, time.Unix(0, i*7919*int64(time.Hour)/3+i*1000003).In(time.FixedZone("", int(i%27-13)*3600)))
	}
	for _, at := range times {
		assert.Equal(t, at.UTC().Format(TimestampLayout), string(appendTimestamp(nil, at)), "%v", at)
		assert.Equal(t, at.UTC().Format(TimestampLayout), FormatTimestamp(at), "%v", at)
	}
}
