package plaintext

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWrite(t *testing.T) {
	w := httptest.NewRecorder()
	Write(w, 418, "pkg: short reason")
	assert.Equal(t, 418, w.Code)
	assert.Equal(t, "pkg: short reason\n", w.Body.String())
	assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
}
