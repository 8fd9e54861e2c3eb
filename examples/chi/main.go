// Command chi is a Smile ID callback receiver on chi, configured from the
// environment variables of examples/nethttp (see package receiver):
//
//	SMILEID_KEYS=production SMILEID_PRODUCTION_PARTNER_ID=1622 SMILEID_PRODUCTION_API_KEY=... \
//	SMILEID_PRODUCTION_ENVIRONMENT=production go run ./examples/chi
//
// chi takes the guard as it is, with r.Use(guard.Handler).
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
)

func main() {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := receiver.FromEnv(os.LookupEnv)
	if err != nil {
		logger.Error("chi: cannot start", "error", err.Error())
		os.Exit(2)
	}
	guard, err := receiver.NewGuard(cfg, logger)
	if err != nil {
		logger.Error("chi: cannot start", "error", err.Error())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := receiver.ListenAndServe(ctx, cfg.Listen, newRouter(guard, logger), logger); err != nil {
		logger.Error("chi: failed", "error", err.Error())
		os.Exit(1)
	}
}
