// Package proxy is smileguard's callback proxy: the smileguard Guard in
// front of the callback paths, forwarding each admitted callback with its
// exact body and headers to an upstream through httputil.ReverseProxy, an
// admin listener for health, readiness and metrics, key reloads on SIGHUP
// and a graceful shutdown on SIGTERM.
package proxy

import (
	"log/slog"
	"net/url"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/config"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// The headers the proxy adds to every forwarded callback, from the
// verified middleware.Callback. Any header the client sent whose name
// starts with HeaderPrefix is removed first, so the upstream can trust
// them.
const (
	HeaderPrefix      = "Smileguard-"
	HeaderKeyID       = "Smileguard-Key-Id"
	HeaderEnvironment = "Smileguard-Environment"
	HeaderFormat      = "Smileguard-Format"
)

// Server timeouts and limits of the callback listener. Smile ID posts
// bodies of up to 1.5 MB; thirty seconds carries that over a slow link, and
// a client that dribbles its headers is cut off after five.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	IdleTimeout       = 2 * time.Minute
	MaxHeaderBytes    = 64 << 10
)

// Config is the proxy's whole configuration, validated by the command that
// builds it from flags; New checks only what it cannot (the core's
// constructors).
type Config struct {
	Listen      string   // host:port of the callback listener
	AdminListen string   // host:port of the admin listener; "": none
	Paths       []string // the callback paths, exact
	TLSCert     string   // PEM files; both or neither
	TLSKey      string

	Upstream        *url.URL      // where admitted callbacks go; the request path is appended to its path
	UpstreamTimeout time.Duration // for the whole upstream exchange; then 504

	Keys         config.KeySource
	InitialKeys  []signer.Key // loaded from Keys at start
	Environments []signer.Environment

	Allowlist    allowlist.Config            // Allow, TrustedProxies, Header, MaxHops
	RateLimit    *middleware.RateLimitConfig // nil: no rate limit
	RateFailOpen bool                        // with Redis: admit when Redis fails
	Callback     middleware.CallbackConfig   // Tolerance, MaxBodyBytes, Lease, Formats, KeyPolicy; no Keyring or Replay
	ReplayMax    int                         // in-memory replay store's size; 0: the default
	Auth         *middleware.AuthConfig      // nil: no credential check

	Redis        *redis.Options // nil: in-memory replay store and rate limit
	RedisPrefix  string
	RedisTimeout time.Duration

	ShutdownGrace time.Duration // how long in-flight callbacks may take after SIGTERM

	Logger *slog.Logger

	// Lifecycle receives the lines that say what the process does as a
	// whole (listening, reloaded, shutting down, stopped) whatever the
	// level of Logger, as they are few and operators look for them. nil:
	// Logger.
	Lifecycle *slog.Logger
}

// writeTimeout is the callback listener's WriteTimeout: long enough for
// the upstream's whole exchange and a margin to answer.
func (c *Config) writeTimeout() time.Duration {
	return max(30*time.Second, c.UpstreamTimeout+15*time.Second)
}
