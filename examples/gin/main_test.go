package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/examples/internal/callbacktest"
	"github.com/smileguard/smileguard/middleware"
)

func init() { gin.SetMode(gin.TestMode) }

func TestAdapterAbortsRefusalsAndPassesCallbacks(t *testing.T) {
	var reached int
	var body []byte
	var keyID string
	r := gin.New()
	r.POST(callbacktest.Path, fromNetHTTP(callbacktest.NewGuard(t).Handler), func(c *gin.Context) {
		reached++
		var err error
		body, err = c.GetRawData()
		require.NoError(t, err)
		cb, _ := middleware.CallbackFromContext(c.Request.Context())
		keyID = cb.KeyID
		c.Status(http.StatusOK)
	})

	for _, sc := range callbacktest.Scenarios(t) {
		t.Run(sc.Name, func(t *testing.T) {
			reached, body, keyID = 0, nil, ""
			w := httptest.NewRecorder()
			r.ServeHTTP(w, sc.Request)
			assert.Equal(t, sc.WantStatus, w.Code)
			assert.Equal(t, sc.WantReached, reached == 1, "the gin handler runs")
			if sc.WantReached {
				assert.Equal(t, string(sc.WantBody), string(body), "the gin handler reads the exact body")
				assert.Equal(t, callbacktest.Key.ID, keyID, "and finds the verified callback")
			}
		})
	}
}

func TestAdapterReportsFailedHandlingToTheGuard(t *testing.T) {
	statuses := []int{http.StatusInternalServerError, http.StatusOK}
	calls := 0
	r := gin.New()
	r.POST(callbacktest.Path, fromNetHTTP(callbacktest.NewGuard(t).Handler), func(c *gin.Context) {
		c.AbortWithStatus(statuses[calls]) // writes through gin, past the guard's writer
		calls++
	})
	callback := callbacktest.Sign(t, callbacktest.Key, `{"ResultCode":"1012"}`)
	for i, want := range []int{http.StatusInternalServerError, http.StatusOK, http.StatusOK} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, callbacktest.Request(callback, callbacktest.ProxyPeer, callbacktest.SmileIDAddress))
		assert.Equal(t, want, w.Code, "delivery %d", i+1)
	}
	assert.Equal(t, 2, calls, "the retry after a 500 is handled again; the one after a 200 is not")
}

func TestRouter(t *testing.T) {
	callbacktest.CheckRouter(t, newRouter(callbacktest.NewGuard(t), slog.New(slog.DiscardHandler)))
}
