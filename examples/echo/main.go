// Command echo is a Smile ID callback receiver on echo, configured from the
// environment variables of examples/nethttp (see package receiver):
//
//	SMILEID_KEYS=production SMILEID_PRODUCTION_PARTNER_ID=1622 SMILEID_PRODUCTION_API_KEY=... \
//	SMILEID_PRODUCTION_ENVIRONMENT=production go run ./examples/echo
//
// The guard is net/http middleware; fromNetHTTP (adapter.go) makes it echo
// middleware.
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
		logger.Error("echo: cannot start", "error", err.Error())
		os.Exit(2)
	}
	guard, err := receiver.NewGuard(cfg, logger)
	if err != nil {
		logger.Error("echo: cannot start", "error", err.Error())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := receiver.ListenAndServe(ctx, cfg.Listen, newRouter(guard, logger), logger); err != nil {
		logger.Error("echo: failed", "error", err.Error())
		os.Exit(1)
	}
}
