// Command chi is a Smile ID callback receiver on chi, configured from the
// environment variables of examples/nethttp (see package receiver):
//
//	SMILEID_KEYS=production SMILEID_PRODUCTION_PARTNER_ID=1622 SMILEID_PRODUCTION_API_KEY=... \
//	SMILEID_PRODUCTION_ENVIRONMENT=production go run ./examples/chi
//
// chi takes the guard as it is, with r.Use(guard.Handler).
package main

import (
	"log/slog"
	"net/http"
	"os"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
	"github.com/smileguard/smileguard/middleware"
)

func main() {
	os.Exit(receiver.Main("chi", func(guard *middleware.Guard, logger *slog.Logger) http.Handler {
		return newRouter(guard, logger)
	}))
}
