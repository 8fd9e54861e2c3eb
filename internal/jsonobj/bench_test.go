package jsonobj

import (
	"strings"
	"testing"

	"github.com/smileguard/smileguard/internal/callbacks"
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

// BenchmarkFindSigned finds signature and timestamp in the callback the
// other benchmarks send (22 top-level members, several of them named like
// "Source" or "SmileJobID", which the case-fold check must look at) at
// 2 KB, and in an object of 256 short members whose names start like the
// two: what naming each member costs on top of Scan.
func BenchmarkFindSigned(b *testing.B) {
	const signed = `,"signature":"XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=","timestamp":"2026-11-21T10:00:00.000Z"}`
	callback := callbacks.Body("job-0001", 2<<10)
	callback = append(callback[:len(callback)-1:len(callback)-1], signed...)
	var many strings.Builder
	many.WriteString(`{`)
	for i := range 256 {
		many.WriteString(`"` + []string{"status_ok", "Source", "Timestamps", "signatory", "TIMESTAMP_", "sub_total"}[i%6] + `":1,`)
	}
	many.WriteString(signed[1:])
	for _, c := range []struct {
		name string
		doc  []byte
	}{{"callback2KB", callback}, {"members256", []byte(many.String())}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.doc)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				found, err := FindSigned(c.doc)
				if err != nil || found.Signatures != 1 || found.Timestamps != 1 {
					b.Fatal(err, found)
				}
			}
		})
	}
}
