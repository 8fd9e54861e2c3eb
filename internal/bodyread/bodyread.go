// Package bodyread reads an HTTP body whole, within a limit, with memory
// that follows the bytes that arrive rather than the length the sender
// declares.
package bodyread

import (
	"io"
	"slices"
)

// MaxPrealloc is the most Read allocates before that many bytes of a body
// have arrived: a declared length costs its sender nothing, so it is
// believed only once the body is on its way. A sender that declares the
// largest body allowed and stalls holds at most MaxPrealloc.
const MaxPrealloc = 64 << 10

// Read reads r to its end, or to one byte past limit, whichever comes
// first: a result longer than limit means r was. declared, the declared
// length or -1, sizes the buffer so that a body of that length is read
// without growing it once its first MaxPrealloc bytes have come. The
// returned slice is the caller's.
func Read(r io.Reader, declared, limit int64) ([]byte, error) {
	return ReadInto(nil, r, declared, limit)
}

// ReadInto is Read into buf's capacity, growing it only if the body needs
// more: a caller that reuses buffers passes one back.
func ReadInto(buf []byte, r io.Reader, declared, limit int64) ([]byte, error) {
	size := int64(512)
	if declared >= 0 && declared <= limit {
		size = declared + 1 // room to read io.EOF without growing
	}
	if int64(cap(buf)) < min(size, MaxPrealloc) {
		buf = make([]byte, 0, min(size, MaxPrealloc))
	}
	buf = buf[:0]
	for {
		end := cap(buf)
		if int64(end) > limit+1 {
			end = int(limit + 1)
		}
		n, err := r.Read(buf[len(buf):end])
		buf = buf[:len(buf)+n]
		if err == io.EOF || int64(len(buf)) > limit {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		switch {
		case len(buf) < cap(buf):
		case int64(cap(buf)) < size: // the first MaxPrealloc bytes came
			buf = slices.Grow(buf, int(size)-len(buf))
		default:
			buf = append(buf, 0)[:len(buf)] // let append pick the growth
		}
	}
}
