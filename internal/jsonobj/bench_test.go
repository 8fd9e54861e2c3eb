package jsonobj

import (
	"strings"
	"testing"
)

// BenchmarkScan scans a 2 KB callback and a 1.5 MB one, most of it a base64
// photo, visiting every top-level member.
func BenchmarkScan(b *testing.B) {
	head := `{"SmileJobID":"0000012345","PartnerParams":{"job_id":"a2a4d6e0","user_id":"b3b5e7f1","job_type":5},"ResultCode":"1012","Actions":{"Verify_ID_Number":"Verified","Names":"Exact Match"},"FullName":"ADA LOVELACE","signature":"XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=","timestamp":"2026-11-21T10:00:00.000Z","FullData":{"Photo":"`
	for _, c := range []struct {
		name string
		size int
	}{{"2KB", 2 << 10}, {"1.5MB", 1536 << 10}} {
		doc := []byte(head + strings.Repeat("QUJD", (c.size-len(head)-4)/4) + `"}}`)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(doc)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				n := 0
				if err := Scan(doc, func(Member) error { n++; return nil }); err != nil || n != 8 {
					b.Fatal(err, n)
				}
			}
		})
	}
}
