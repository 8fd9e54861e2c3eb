// Command nethttp is a Smile ID callback receiver on net/http, configured
// from environment variables (see package receiver for the list):
//
//	SMILEID_KEYS=production SMILEID_PRODUCTION_PARTNER_ID=1622 SMILEID_PRODUCTION_API_KEY=... \
//	SMILEID_PRODUCTION_ENVIRONMENT=production go run ./examples/nethttp
//
// It logs JSON to stderr and stops gracefully on SIGINT or SIGTERM.
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
		logger.Error("receiver: cannot start", "error", err.Error())
		os.Exit(2)
	}
	logger.Info("receiver: starting", "config", cfg)
	handler, err := receiver.NewHandler(cfg, logger)
	if err != nil {
		logger.Error("receiver: cannot start", "error", err.Error())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := receiver.ListenAndServe(ctx, cfg.Listen, handler, logger); err != nil {
		logger.Error("receiver: failed", "error", err.Error())
		os.Exit(1)
	}
}
