package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
	"github.com/smileguard/smileguard/middleware"
)

// newRouter returns the echo instance: the callback route behind guard,
// and a health check.
func newRouter(guard *middleware.Guard, logger *slog.Logger) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.POST(receiver.CallbackPath, handleCallback(logger), fromNetHTTP(guard.Handler))
	e.GET("/healthz", echo.WrapHandler(http.HandlerFunc(receiver.Healthz)))
	return e
}

// handleCallback is where your code goes; it runs once per genuine, fresh,
// first-time callback. Answer 2xx only once the result is recorded.
func handleCallback(logger *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, err := io.ReadAll(c.Request().Body) // the exact bytes Smile ID sent
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest)
		}
		var res struct{ SmileJobID, ResultCode string }
		if err := json.Unmarshal(body, &res); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "unexpected callback fields")
		}
		cb, _ := middleware.CallbackFromContext(c.Request().Context())
		logger.InfoContext(c.Request().Context(), "echo: callback received",
			"smile_job_id", res.SmileJobID, "result_code", res.ResultCode, "environment", string(cb.Environment))
		return c.NoContent(http.StatusOK)
	}
}
