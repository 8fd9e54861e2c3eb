package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/examples/internal/callbacktest"
	"github.com/smileguard/smileguard/middleware"
)

func TestAdapterStopsRefusalsAndPassesCallbacks(t *testing.T) {
	var reached int
	var body []byte
	var keyID string
	e := echo.New()
	e.POST(callbacktest.Path, func(c echo.Context) error {
		reached++
		var err error
		body, err = io.ReadAll(c.Request().Body)
		require.NoError(t, err)
		cb, _ := middleware.CallbackFromContext(c.Request().Context())
		keyID = cb.KeyID
		return c.NoContent(http.StatusOK)
	}, fromNetHTTP(callbacktest.NewGuard(t).Handler))

	for _, sc := range callbacktest.Scenarios(t) {
		t.Run(sc.Name, func(t *testing.T) {
			reached, body, keyID = 0, nil, ""
			w := httptest.NewRecorder()
			e.ServeHTTP(w, sc.Request)
			assert.Equal(t, sc.WantStatus, w.Code)
			assert.Equal(t, sc.WantReached, reached == 1, "the echo handler runs")
			if sc.WantReached {
				assert.Equal(t, string(sc.WantBody), string(body), "the echo handler reads the exact body")
				assert.Equal(t, callbacktest.Key.ID, keyID, "and finds the verified callback")
			}
		})
	}
}

// failOnce is an echo handler that returns an error the first time and
// succeeds afterwards; calls counts its calls.
func failOnce(calls *int) echo.HandlerFunc {
	return func(c echo.Context) error {
		*calls++
		if *calls == 1 {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "database down")
		}
		return c.NoContent(http.StatusOK)
	}
}

func TestAdapterReportsHandlerErrorsToTheGuard(t *testing.T) {
	calls := 0
	e := echo.New()
	e.POST(callbacktest.Path, failOnce(&calls), fromNetHTTP(callbacktest.NewGuard(t).Handler))
	callback := callbacktest.Sign(t, callbacktest.Key, `{"ResultCode":"1012"}`)
	for i, want := range []int{http.StatusServiceUnavailable, http.StatusOK, http.StatusOK} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, callbacktest.Request(callback, callbacktest.ProxyPeer, callbacktest.SmileIDAddress))
		assert.Equal(t, want, w.Code, "delivery %d", i+1)
	}
	assert.Equal(t, 2, calls, "the retry after an error is handled again; the one after a 200 is not")
}

// TestWrapMiddlewareLosesHandlerErrors shows why fromNetHTTP exists: with
// echo.WrapMiddleware, echo answers the handler's error after the guard has
// finished, so the guard records the delivery as handled and Smile ID's
// retry is acknowledged without being processed. If this test fails, echo
// has changed and WrapMiddleware may do.
func TestWrapMiddlewareLosesHandlerErrors(t *testing.T) {
	calls := 0
	e := echo.New()
	e.POST(callbacktest.Path, failOnce(&calls), echo.WrapMiddleware(callbacktest.NewGuard(t).Handler))
	callback := callbacktest.Sign(t, callbacktest.Key, `{"ResultCode":"1012"}`)
	for i, want := range []int{http.StatusServiceUnavailable, http.StatusOK} {
		w := httptest.NewRecorder()
		e.ServeHTTP(w, callbacktest.Request(callback, callbacktest.ProxyPeer, callbacktest.SmileIDAddress))
		assert.Equal(t, want, w.Code, "delivery %d", i+1)
	}
	assert.Equal(t, 1, calls, "the failed callback is never processed")
}

func TestRouter(t *testing.T) {
	callbacktest.CheckRouter(t, newRouter(callbacktest.NewGuard(t), slog.New(slog.DiscardHandler)))
}
