package middleware

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
)

// maxPrealloc is the most readBody allocates for a body before that many
// of its bytes have arrived: a declared length costs a client nothing to
// send, so it is believed only once the body is on its way. A client that
// stalls then holds at most maxPrealloc, not MaxBodyBytes.
const maxPrealloc = 64 << 10

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

// readBody reads the whole body, refusing a declared length over max before
// reading anything, and an actual body over max (chunked or with a lying
// length) as soon as it passes max. A body that ends before or after its
// declared length, or whose reader fails, is ErrBodyRead. The returned slice
// is owned by the caller; it is never pooled.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, ErrBodyTooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		if r.ContentLength > 0 {
			return nil, ErrBodyRead
		}
		return []byte{}, nil
	}
	size := int64(512)
	if r.ContentLength >= 0 {
		size = r.ContentLength + 1 // one spare byte to meet EOF without growing
	}
	buf := make([]byte, 0, min(size, maxPrealloc))
	body := http.MaxBytesReader(w, r.Body, max)
	for {
		n, err := body.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, ErrBodyTooLarge
			}
			return nil, ErrBodyRead
		}
		switch {
		case len(buf) < cap(buf):
		case int64(cap(buf)) < size: // the first maxPrealloc bytes came
			buf = slices.Grow(buf, int(size)-len(buf))
		default:
			buf = append(buf, 0)[:len(buf)]
		}
	}
	if r.ContentLength >= 0 && int64(len(buf)) != r.ContentLength {
		return nil, ErrBodyRead
	}
	return buf, nil
}

// replayBody is the request body the next handler reads: the exact bytes
// that arrived. It is part of the per-request delivery so that re-injecting
// the body costs no allocation of its own.
type replayBody struct {
	bytes.Reader
}

func (*replayBody) Close() error { return nil }
