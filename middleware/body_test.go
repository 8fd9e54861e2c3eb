package middleware

import (
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDeclaredLengthAloneCostsLittleMemory(t *testing.T) {
	h := newVerifier(t, CallbackConfig{}).Handler(&recorder{})
	// The client declares the largest body allowed and hangs up before
	// sending any of it: it has spent a few hundred bytes of headers.
	request := func() {
		r := post(nil, "")
		r.Body = io.NopCloser(&failingReader{})
		r.ContentLength = DefaultMaxBodyBytes
		if code := serve(h, r).Code; code != 400 {
			t.Fatalf("status %d, want 400", code)
		}
	}
	request()

	const requests = 20
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for i := 0; i < requests; i++ {
		request()
	}
	runtime.ReadMemStats(&after)
	perRequest := (after.TotalAlloc - before.TotalAlloc) / requests
	assert.Less(t, perRequest, uint64(DefaultMaxBodyBytes/8), "bytes allocated per request")
}
