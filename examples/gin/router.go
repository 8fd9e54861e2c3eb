package main

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
	"github.com/smileguard/smileguard/middleware"
)

// newRouter returns the gin engine: the callback route behind guard, and a
// health check.
func newRouter(guard *middleware.Guard, logger *slog.Logger) *gin.Engine {
	r := gin.New()
	r.Use(gin.Recovery())
	r.POST(receiver.CallbackPath, fromNetHTTP(guard.Handler), handleCallback(logger))
	r.GET("/healthz", gin.WrapF(receiver.Healthz))
	return r
}

// handleCallback is where your code goes; it runs once per genuine, fresh,
// first-time callback. Answer 2xx only once the result is recorded.
func handleCallback(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		body, err := c.GetRawData() // the exact bytes Smile ID sent
		if err != nil {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		var res struct{ SmileJobID, ResultCode string }
		if err := json.Unmarshal(body, &res); err != nil {
			c.String(http.StatusBadRequest, "unexpected callback fields")
			return
		}
		cb, _ := middleware.CallbackFromContext(c.Request.Context())
		logger.InfoContext(c.Request.Context(), "gin: callback received",
			"smile_job_id", res.SmileJobID, "result_code", res.ResultCode, "environment", string(cb.Environment))
		c.Status(http.StatusOK)
	}
}
