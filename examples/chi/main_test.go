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
	r := newRouter(callbacktest.NewGuard(t), slog.New(slog.DiscardHandler))
	callback := callbacktest.Sign(t, callbacktest.Key, `{"SmileJobID":"0000004711","ResultCode":"1012"}`)
	tests := []struct {
		name string
		req  *http.Request
		want int
	}{
		{"genuine callback", callbacktest.Request(callback, callbacktest.ProxyPeer, callbacktest.SmileIDAddress), http.StatusOK},
		{"spoofed callback", callbacktest.Request(callback, callbacktest.StrangerPeer, callbacktest.SmileIDAddress), http.StatusForbidden},
		{"callback fields of the wrong type",
			callbacktest.Request(callbacktest.Sign(t, callbacktest.Key, `{"ResultCode":1012}`), callbacktest.ProxyPeer, callbacktest.SmileIDAddress),
			http.StatusBadRequest},
		{"health check, outside the guard", httptest.NewRequest(http.MethodGet, "/healthz", nil), http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r.ServeHTTP(w, tt.req)
			assert.Equal(t, tt.want, w.Code)
		})
	}
}
