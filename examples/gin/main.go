// Command gin is a Smile ID callback receiver on gin, configured from the
// environment variables of examples/nethttp (see package receiver):
//
//	SMILEID_KEYS=production SMILEID_PRODUCTION_PARTNER_ID=1622 SMILEID_PRODUCTION_API_KEY=... \
//	SMILEID_PRODUCTION_ENVIRONMENT=production go run ./examples/gin
//
// The guard is net/http middleware; fromNetHTTP (adapter.go) makes it gin
// middleware.
package main

import (
	"log/slog"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
	"github.com/smileguard/smileguard/middleware"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	os.Exit(receiver.Main("gin", func(guard *middleware.Guard, logger *slog.Logger) http.Handler {
		return newRouter(guard, logger)
	}))
}
