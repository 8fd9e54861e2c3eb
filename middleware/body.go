package middleware

import (
	"net/http"
	"strings"
	"sync"

	"github.com/smileguard/smileguard/internal/bodyread"
)

// isJSON reports whether the request declares exactly one Content-Type and
// it is application/json, parameters allowed.
func isJSON(h http.Header) bool {
	values := h["Content-Type"]
	if len(values) != 1 {
		return false
	}
	mediaType, _, _ := strings.Cut(values[0], ";")
	return strings.EqualFold(strings.TrimSpace(mediaType), "application/json")
}

// readBody reads the whole body into buf's capacity (growing it if it must;
// see bodyread.ReadInto), refusing a declared length over max before
// reading anything, and an actual body over max (chunked or with a lying
// length) as soon as it passes max. A body that ends before or after its
// declared length, or whose reader fails, is ErrBodyRead. The returned
// slice is the caller's, lent again only with ReuseBodyBuffers.
func readBody(buf []byte, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, ErrBodyTooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		if r.ContentLength > 0 {
			return nil, ErrBodyRead
		}
		return []byte{}, nil
	}
	buf, err := bodyread.ReadInto(buf, r.Body, r.ContentLength, max)
	if err != nil {
		return nil, ErrBodyRead
	}
	if int64(len(buf)) > max {
		// The server reads on through at most 256 KiB of what is left,
		// then closes the connection after the answer.
		return nil, ErrBodyTooLarge
	}
	if r.ContentLength >= 0 && int64(len(buf)) != r.ContentLength {
		return nil, ErrBodyRead
	}
	return buf, nil
}

// bodyBuffers lends the buffers bodies are read into, with
// CallbackConfig.ReuseBodyBuffers: a buffer comes back once the next
// handler has returned and its readers are cut off (lentBody).
type bodyBuffers struct{ pool sync.Pool } // of *[]byte

func (b *bodyBuffers) get() *[]byte {
	if buf, ok := b.pool.Get().(*[]byte); ok {
		return buf
	}
	return new([]byte)
}

// put takes buf back with the body read into it.
func (b *bodyBuffers) put(buf *[]byte, body []byte) {
	if cap(body) > cap(*buf) {
		*buf = body[:0] // it grew: keep the larger array
	}
	b.pool.Put(buf)
}
