package middleware

import (
	"io"
	"net/http"
	"sync"
)

// lentBody is a body read into a lent buffer (CallbackConfig.ReuseBodyBuffers)
// as its readers see it: the bytes until the buffer is taken back once the
// next handler has returned, then http.ErrBodyReadAfterClose, the error
// net/http's own request bodies give after the handler has returned. A
// reader kept past the handler's return, or one it left running, therefore
// fails instead of reading the callback the buffer holds next. Each
// request has its own, never reused, so that a kept reader can only ever
// reach its own.
type lentBody struct {
	mu        sync.RWMutex
	bytes     []byte
	takenBack bool
	reader    lentReader // r.Body; GetBody makes the others
}

// lend makes b the readers' bytes and returns the reader for r.Body.
func (l *lentBody) lend(b []byte) *lentReader {
	l.bytes = b
	l.reader = lentReader{body: l}
	return &l.reader
}

// takeBack ends the loan: it returns once no reader is copying from the
// buffer, and every read after it fails.
func (l *lentBody) takeBack() {
	l.mu.Lock()
	l.bytes, l.takenBack = nil, true
	l.mu.Unlock()
}

// getBody is the request's GetBody: a new reader from the start, as long
// as the loan lasts.
func (l *lentBody) getBody() (io.ReadCloser, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.takenBack {
		return nil, http.ErrBodyReadAfterClose
	}
	return &lentReader{body: l}, nil
}

// lentReader reads a lentBody from its own offset.
type lentReader struct {
	body *lentBody
	off  int
}

// Read implements io.Reader.
func (r *lentReader) Read(p []byte) (int, error) {
	l := r.body
	l.mu.RLock()
	defer l.mu.RUnlock()
	switch {
	case l.takenBack:
		return 0, http.ErrBodyReadAfterClose
	case r.off >= len(l.bytes):
		return 0, io.EOF
	}
	n := copy(p, l.bytes[r.off:])
	r.off += n
	return n, nil
}

// Close implements io.Closer; the buffer goes back when the handler
// returns, not before.
func (*lentReader) Close() error { return nil }
