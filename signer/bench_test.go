package signer

import (
	"fmt"
	"testing"
)

func BenchmarkSign(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = Sign(sandboxKey.APIKey, sandboxKey.PartnerID, testTimestamp)
	}
}

func BenchmarkVerify(b *testing.B) {
	sig := sign(sandboxKey)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !Verify(sandboxKey.APIKey, sandboxKey.PartnerID, testTimestamp, sig) {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkKeyringVerify verifies with the last of n keys, the worst case
// for a match.
func BenchmarkKeyringVerify(b *testing.B) {
	for _, n := range []int{1, 8} {
		b.Run(fmt.Sprintf("keys=%d", n), func(b *testing.B) {
			keys := make([]Key, n)
			for i := range keys {
				keys[i] = Key{ID: fmt.Sprint(i), PartnerID: "1622", APIKey: fmt.Sprintf("secret-%d", i), Environment: Production}
			}
			ring, err := NewKeyring(keys...)
			if err != nil {
				b.Fatal(err)
			}
			sig := sign(keys[n-1])
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := ring.Verify(testTimestamp, sig, Production); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkParseTimestamp(b *testing.B) {
	for _, style := range []struct{ name, in string }{
		{"javascript", "2026-11-21T10:00:00.000Z"},
		{"python", "2026-11-21T10:00:00.123456+00:00"},
		{"ruby", "2026-11-21 10:00:00 +0000"},
		{"php", "2026-11-21T10:00:00+00:00"},
		{"java", "2026-11-21T10:00:00.123456789Z"},
		{"unix-seconds", "1763719200"},
		{"unix-millis", "1763719200123"},
	} {
		b.Run(style.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := ParseTimestamp(style.in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFormatTimestamp(b *testing.B) {
	at, _ := ParseTimestamp(testTimestamp)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = FormatTimestamp(at)
	}
}
