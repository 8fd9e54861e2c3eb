package receiver

import (
	"log/slog"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/smileguard/smileguard/middleware"
)

func TestMainRefusesToStartWithoutKeys(t *testing.T) {
	t.Setenv("SMILEID_KEYS", "")
	t.Setenv("SMILEID_KEYS_FILE", "")
	called := false
	code := Main("test", func(*middleware.Guard, *slog.Logger) http.Handler {
		called = true
		return http.NotFoundHandler()
	})
	assert.Equal(t, 2, code)
	assert.False(t, called, "no routes are built without a configuration")
}
