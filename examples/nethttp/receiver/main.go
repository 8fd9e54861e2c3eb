package receiver

import (
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/smileguard/smileguard/middleware"
)

// Main is the whole main function of each example receiver: JSON logs to
// stderr, the configuration from the environment (FromEnv), the Guard, the
// routes that routes builds around it, and a server until SIGINT or
// SIGTERM. It returns the process's exit code: 2 if it cannot start, 1 if
// the server fails, 0 after a graceful shutdown. name prefixes its log
// messages.
func Main(name string, routes func(*middleware.Guard, *slog.Logger) http.Handler) int {
	logger := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := FromEnv(os.LookupEnv)
	if err != nil {
		logger.Error(name+": cannot start", "error", err.Error())
		return 2
	}
	logger.Info(name+": starting", "config", cfg)
	guard, err := NewGuard(cfg, logger)
	if err != nil {
		logger.Error(name+": cannot start", "error", err.Error())
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := ListenAndServe(ctx, cfg.Listen, routes(guard, logger), logger); err != nil {
		logger.Error(name+": failed", "error", err.Error())
		return 1
	}
	return 0
}
