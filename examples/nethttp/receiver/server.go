package receiver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// CallbackPath is where Smile ID posts callbacks: set it as the callback
// URL of your jobs (https://your.host/smileid/callback).
const CallbackPath = "/smileid/callback"

// Server timeouts and limits. Smile ID posts bodies of up to 1.5 MB; thirty
// seconds carries that over a slow link, and a client that dribbles its
// headers is cut off after five.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
	ShutdownTimeout   = 20 * time.Second // under the 30 s most orchestrators wait after SIGTERM
)

// NewGuard returns the Guard for cfg: Smile ID's callback addresses of the
// environments cfg has keys for, cfg's proxies and rate limit, and a
// keyring of cfg's keys. Its log records go to logger.
func NewGuard(cfg Config, logger *slog.Logger) (*middleware.Guard, error) {
	keyring, err := signer.NewKeyring(cfg.Keys...)
	if err != nil {
		return nil, err
	}
	return middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{
			Allow:          cfg.allowed(),
			TrustedProxies: cfg.TrustedProxies,
			Header:         cfg.ForwardedHeader,
		},
		RateLimit: &cfg.RateLimit,
		Callback:  middleware.CallbackConfig{Keyring: keyring},
		Logger:    logger,
		Observe:   cfg.Observe,
	})
}

// NewHandler returns the receiver's routes: POST /smileid/callback behind
// the Guard, and GET /healthz for your load balancer. Every other method or
// path is answered by http.ServeMux (405, 404). Log records go to logger.
func NewHandler(cfg Config, logger *slog.Logger) (http.Handler, error) {
	guard, err := NewGuard(cfg, logger)
	if err != nil {
		return nil, err
	}
	return Routes(guard, logger), nil
}

// Routes returns the receiver's routes around guard (see NewHandler).
func Routes(guard *middleware.Guard, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST "+CallbackPath, guard.Handler(handleCallback(logger)))
	mux.HandleFunc("GET /healthz", Healthz)
	return mux
}

// Healthz answers a load balancer's health check.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	io.WriteString(w, "ok\n")
}

// smileIDSets returns Smile ID's published callback addresses for the
// environments of keys, and only those: a deployment without a sandbox key
// has no reason to hear from the sandbox.
func smileIDSets(keys []signer.Key) []allowlist.Set {
	var sets []allowlist.Set
	for _, set := range []allowlist.Set{allowlist.SmileIDProduction, allowlist.SmileIDSandbox} {
		if hasEnvironment(keys, set.Environment) {
			sets = append(sets, set)
		}
	}
	return sets
}

// NewServer returns an http.Server for handler with the package's
// timeouts and limits, logging its own errors (TLS handshakes, panics) to
// logger.
func NewServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Serve serves srv on ln until ctx is done, then shuts it down gracefully:
// it stops accepting, lets requests in flight finish for up to
// ShutdownTimeout, and returns nil once they have. A server that fails
// returns its error.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("receiver: shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// ListenAndServe serves handler on addr, with NewServer's timeouts, until
// ctx is done, then shuts down gracefully as Serve does.
func ListenAndServe(ctx context.Context, addr string, handler http.Handler, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	logger.Info("receiver: listening", "addr", ln.Addr().String())
	err = Serve(ctx, NewServer(handler, logger), ln)
	logger.Info("receiver: stopped")
	return err
}
