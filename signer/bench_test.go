package signer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
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
// for a match. Beside each, floor=hmacs is the work no verifier of n keys
// can skip: n HMACs from precomputed states (Reset, Write, Sum) and n
// constant-time comparisons, with the message built once and the
// signature decoded beforehand. The Keyring's overhead is its ratio to the
// floor.
func BenchmarkKeyringVerify(b *testing.B) {
	for _, n := range []int{1, 8} {
		keys := make([]Key, n)
		for i := range keys {
			keys[i] = Key{ID: fmt.Sprint(i), PartnerID: "1622", APIKey: fmt.Sprintf("secret-%d", i), Environment: Production}
		}
		sig := sign(keys[n-1])
		b.Run(fmt.Sprintf("keys=%d/keyring", n), func(b *testing.B) {
			ring, err := NewKeyring(keys...)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := ring.Verify(testTimestamp, sig, Production); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("keys=%d/floor=hmacs", n), func(b *testing.B) {
			hashes := make([]hash.Hash, n)
			for i, k := range keys {
				hashes[i] = hmac.New(sha256.New, []byte(k.APIKey))
			}
			want, err := base64.StdEncoding.DecodeString(sig)
			if err != nil {
				b.Fatal(err)
			}
			msg := make([]byte, 0, 64)
			out := make([]byte, 0, sha256.Size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				msg = append(append(append(msg[:0], testTimestamp...), "1622"...), "sid_request"...)
				found := -1
				for j, h := range hashes {
					h.Reset()
					h.Write(msg)
					out = h.Sum(out[:0])
					if hmac.Equal(out, want) {
						found = j
					}
				}
				if found != n-1 {
					b.Fatal("no match")
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
