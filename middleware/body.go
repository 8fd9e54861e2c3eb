package middleware

import (
	"net/http"
	"strings"

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

// readBody reads the whole body, refusing a declared length over max before
// reading anything, and an actual body over max (chunked or with a lying
// length) as soon as it passes max. A body that ends before or after its
// declared length, or whose reader fails, is ErrBodyRead. The returned slice
// is owned by the caller; it is never pooled.
func readBody(r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, ErrBodyTooLarge
	}
	if r.Body == nil || r.Body == http.NoBody {
		if r.ContentLength > 0 {
			return nil, ErrBodyRead
		}
		return []byte{}, nil
	}
	buf, err := bodyread.Read(r.Body, r.ContentLength, max)
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
