package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/examples/internal/callbacktest"
	"github.com/smileguard/smileguard/middleware"
)

func TestGuardWithUse(t *testing.T) {
	var reached int
	var body []byte
	var keyID string
	r := chi.NewRouter()
	r.Use(callbacktest.NewGuard(t).Handler)
	r.Post(callbacktest.Path, func(w http.ResponseWriter, r *http.Request) {
		reached++
		var err error
		body, err = io.ReadAll(r.Body)
		require.NoError(t, err)
		cb, _ := middleware.CallbackFromContext(r.Context())
		keyID = cb.KeyID
	})

	for _, sc := range callbacktest.Scenarios(t) {
		t.Run(sc.Name, func(t *testing.T) {
			reached, body, keyID = 0, nil, ""
			w := httptest.NewRecorder()
			r.ServeHTTP(w, sc.Request)
			assert.Equal(t, sc.WantStatus, w.Code)
			assert.Equal(t, sc.WantReached, reached == 1, "the chi handler runs")
			if sc.WantReached {
				assert.Equal(t, string(sc.WantBody), string(body), "the chi handler reads the exact body")
				assert.Equal(t, callbacktest.Key.ID, keyID, "and finds the verified callback")
			}
		})
	}
}

func TestRouter(t *testing.T) {
	callbacktest.CheckRouter(t, newRouter(callbacktest.NewGuard(t), slog.New(slog.DiscardHandler)))
}
