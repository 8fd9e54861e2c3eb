package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/redisstore"
	"github.com/smileguard/smileguard/signer"
)

// A Proxy is a configured callback proxy, ready to Run.
type Proxy struct {
	cfg       Config
	logger    *slog.Logger
	lifecycle *slog.Logger
	keyring   *signer.Keyring
	guard     *middleware.Guard
	redis     *redis.Client // nil: none
	metrics   *metrics
	cert      atomic.Pointer[tls.Certificate]

	draining atomic.Bool
}

// ErrShutdownTimeout means in-flight callbacks were still running when the
// grace period ended; they were cut off, and their deliveries released.
var ErrShutdownTimeout = errors.New("smileguard: in-flight callbacks did not finish within the grace period")

// New builds the proxy: the keyring, the replay store and rate limit (in
// Redis if configured), the Guard and the metrics. It does not listen.
func New(cfg Config) (*Proxy, error) {
	p := &Proxy{cfg: cfg, logger: cfg.Logger, lifecycle: cfg.Lifecycle}
	if p.lifecycle == nil {
		p.lifecycle = cfg.Logger
	}
	var err error
	if p.keyring, err = signer.NewKeyring(cfg.InitialKeys...); err != nil {
		return nil, err
	}
	if p.metrics, err = newMetrics(p.keyring, p.usableKeys); err != nil {
		return nil, err
	}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert, --tls-key: %w", err)
		}
		p.cert.Store(&cert)
	}

	gc := middleware.GuardConfig{
		Allowlist: cfg.Allowlist,
		Callback:  cfg.Callback,
		Auth:      cfg.Auth,
		Logger:    cfg.Logger,
		Observe:   p.metrics.observe,
	}
	gc.Callback.Keyring = p.keyring
	if cfg.Redis != nil {
		opts := *cfg.Redis
		opts.ContextTimeoutEnabled = true // redisstore requires it: the Timeout must bound each call
		p.redis = redis.NewClient(&opts)
		store, err := redisstore.NewReplayStore(p.redis, redisstore.ReplayConfig{Prefix: cfg.RedisPrefix, Timeout: cfg.RedisTimeout})
		if err != nil {
			return nil, err
		}
		gc.Callback.Replay = store
		if cfg.RateLimit != nil {
			limiter, err := redisstore.NewLimiter(p.redis, redisstore.LimiterConfig{
				Prefix: cfg.RedisPrefix, Rate: cfg.RateLimit.Rate, Burst: cfg.RateLimit.Burst,
				Timeout: cfg.RedisTimeout, FailOpen: cfg.RateFailOpen, Logger: cfg.Logger,
			})
			if err != nil {
				return nil, err
			}
			gc.Limiter = limiter
		}
	} else {
		store, err := middleware.NewMemoryReplayStore(cfg.ReplayMax)
		if err != nil {
			return nil, err
		}
		gc.Callback.Replay = store
		gc.RateLimit = cfg.RateLimit
	}
	if p.guard, err = middleware.NewGuard(gc); err != nil {
		return nil, err
	}
	return p, nil
}

// Handler returns the callback listener's routes: each callback path
// behind the Guard, forwarding to the upstream; 404 elsewhere.
func (p *Proxy) Handler() http.Handler {
	forward := p.guard.Handler(newForwarder(&p.cfg, p.logger, p.metrics))
	mux := http.NewServeMux()
	for _, path := range p.cfg.Paths {
		mux.Handle(path, forward)
	}
	return mux
}

// Run listens, serves until a SIGTERM or SIGINT arrives on signals, reloads
// on each SIGHUP, and then shuts down gracefully: it stops accepting, lets
// in-flight callbacks finish for up to the grace period, and returns nil
// once they have (ErrShutdownTimeout if they have not).
func (p *Proxy) Run(signals <-chan os.Signal) error {
	ln, err := net.Listen("tcp", p.cfg.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", p.cfg.Listen, err)
	}
	var adminLn net.Listener
	if p.cfg.AdminListen != "" {
		if adminLn, err = net.Listen("tcp", p.cfg.AdminListen); err != nil {
			ln.Close()
			return fmt.Errorf("--admin-listen %s: %w", p.cfg.AdminListen, err)
		}
	}
	errorLog := slog.NewLogLogger(p.logger.Handler(), slog.LevelWarn)
	srv := &http.Server{
		Handler:           p.Handler(),
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      p.cfg.writeTimeout(),
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    MaxHeaderBytes,
		ErrorLog:          errorLog,
	}
	if p.cert.Load() != nil {
		srv.TLSConfig = &tls.Config{
			MinVersion:     tls.VersionTLS12,
			GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return p.cert.Load(), nil },
		}
	}
	served := make(chan error, 2)
	go func() {
		if srv.TLSConfig != nil {
			served <- srv.ServeTLS(ln, "", "")
		} else {
			served <- srv.Serve(ln)
		}
	}()
	var admin *http.Server
	if adminLn != nil {
		admin = &http.Server{
			Handler:           p.adminHandler(),
			ReadHeaderTimeout: ReadHeaderTimeout,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       IdleTimeout,
			MaxHeaderBytes:    MaxHeaderBytes,
			ErrorLog:          errorLog,
		}
		go func() { served <- admin.Serve(adminLn) }()
	}
	p.logListening(ln, adminLn)
	if p.redis != nil {
		if err := p.pingRedis(context.Background()); err != nil {
			p.logger.Error("smileguard: redis unreachable; callbacks are refused with 503 until it is back", "error", err.Error())
		}
	}
	review := time.NewTicker(24 * time.Hour)
	defer review.Stop()

	for {
		select {
		case err := <-served:
			srv.Close()
			if admin != nil {
				admin.Close()
			}
			return err
		case <-review.C:
			signer.LogKeyWarnings(context.Background(), p.logger, p.keyring.Review(now(), p.cfg.Callback.KeyPolicy))
		case sig := <-signals:
			if sig == syscall.SIGHUP {
				p.Reload()
				continue
			}
			return p.shutdown(srv, admin, sig)
		}
	}
}

// shutdown stops the listeners and waits for in-flight callbacks.
func (p *Proxy) shutdown(srv, admin *http.Server, sig os.Signal) error {
	p.draining.Store(true)
	p.lifecycle.Info("smileguard: shutting down", "signal", sig.String(), "grace", p.cfg.ShutdownGrace.String())
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		srv.Close()
		err = ErrShutdownTimeout
	}
	if admin != nil {
		adminCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if admin.Shutdown(adminCtx) != nil {
			admin.Close()
		}
	}
	if p.redis != nil {
		p.redis.Close()
	}
	if err != nil {
		p.lifecycle.Error("smileguard: stopped", "error", err.Error())
		return err
	}
	p.lifecycle.Info("smileguard: stopped")
	return nil
}

// logListening writes the line that says where the proxy listens, with the
// addresses the system chose for port 0.
func (p *Proxy) logListening(ln, adminLn net.Listener) {
	attrs := []any{
		"addr", ln.Addr().String(),
		"tls", p.cert.Load() != nil,
		"paths", p.cfg.Paths,
		"upstream", p.cfg.Upstream.Redacted(),
		"environments", p.cfg.Environments,
		"keys", keyIDs(p.keyring.Keys()),
		"key_source", p.cfg.Keys.Describe(),
	}
	if adminLn != nil {
		attrs = append(attrs, "admin_addr", adminLn.Addr().String())
	}
	if p.cfg.Redis != nil {
		attrs = append(attrs, "redis", p.cfg.Redis.Addr)
	}
	p.lifecycle.Info("smileguard: listening", attrs...)
}

func keyIDs(keys []signer.Key) []string {
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID + " (" + string(k.Environment) + ")"
	}
	return ids
}

// usableKeys counts the keys of env usable now.
func (p *Proxy) usableKeys(env signer.Environment) int {
	n := 0
	t := now()
	for _, k := range p.keyring.Keys() {
		if k.Environment == env && k.UsableAt(t) {
			n++
		}
	}
	return n
}

func (p *Proxy) pingRedis(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	return p.redis.Ping(ctx).Err()
}
