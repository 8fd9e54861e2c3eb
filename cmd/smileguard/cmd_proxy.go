package main

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/config"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/flagenv"
	"github.com/smileguard/smileguard/cmd/smileguard/internal/proxy"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/redisstore"
	"github.com/smileguard/smileguard/signer"
)

var proxyHelp = help{
	usage: "proxy --upstream URL [flags]",
	about: `
Serves the callback path(s) behind the smileguard Guard (allowlist, then
credentials if configured, then rate limit, then signature, freshness and
one-time use) and forwards each admitted callback, with its exact body and
headers, to the upstream. The upstream's answer goes back to Smile ID: a 2xx
marks the delivery handled (a retry is acknowledged with 200 and not
forwarded); anything else, or an upstream that is down (502) or slow (504),
releases it so Smile ID's retry is forwarded again.

The upstream receives Smileguard-Key-Id, Smileguard-Environment (production
or sandbox) and Smileguard-Format (body or header), and X-Forwarded-For set
to the admitted client; any Smileguard-* header a client sent is removed.

SIGHUP reloads the keys (and the TLS certificate) without a restart; a bad
key file leaves the previous keys in force. SIGTERM or SIGINT stops
accepting, lets in-flight callbacks finish within --shutdown-grace, and exits
0. Logs are JSON lines on standard output; refusals name the client address.

The admin listener serves GET /healthz, GET /readyz (keys usable, Redis
answering, not shutting down) and GET /metrics (Prometheus).`,
	examples: `  # Smile ID's published addresses, keys from a file, an app on port 3000:
  smileguard proxy --keys-file /etc/smileguard/keys.json --upstream http://127.0.0.1:3000

  # The same from the environment, behind a load balancer on 10.0.0.0/16,
  # two replicas sharing Redis, with TLS:
  SMILEGUARD_KEYS_FILE=/run/secrets/smileid-keys.json \
  SMILEGUARD_UPSTREAM=http://app:3000 \
  SMILEGUARD_TRUSTED_PROXIES=10.0.0.0/16 \
  SMILEGUARD_REDIS_URL=redis://redis:6379/0 \
  smileguard proxy --listen :8443 --tls-cert cert.pem --tls-key key.pem

  # Local development: accept sandbox callbacks from this machine only.
  smileguard proxy --keys-file keys.json --allow-sandbox 127.0.0.1 \
      --upstream http://127.0.0.1:3000 --listen 127.0.0.1:8080
  smileguard sign --keys-file keys.json --post http://127.0.0.1:8080/smileid/callback

  # Reload the keys after editing the file:
  kill -HUP $(pidof smileguard)`,
}

// proxyFlags are the proxy command's flags.
type proxyFlags struct {
	fs       *flagenv.Set
	keys     *config.KeyFlags
	allow    *config.AllowFlags
	callback *config.CallbackFlags

	listen, adminListen   string
	paths                 flagenv.List
	upstream              string
	upstreamTimeout       flagenv.Duration
	trustedProxies        flagenv.List
	forwardedHeader       string
	maxHops               int
	rate                  float64
	burst, rateMaxClients int
	rateFailOpen          bool
	lease                 flagenv.Duration
	replayMax             int
	keyMaxAge, keyWarning flagenv.Duration
	authBasic, authBearer string
	authRealm             string
	redisURL, redisPrefix string
	redisTimeout          flagenv.Duration
	tlsCert, tlsKey       string
	grace                 flagenv.Duration
	logLevel              string
}

func defineProxyFlags() *proxyFlags {
	fs := flagenv.New("proxy")
	f := &proxyFlags{fs: fs,
		upstreamTimeout: flagenv.Duration(15 * time.Second),
		lease:           flagenv.Duration(middleware.DefaultLease),
		keyMaxAge:       flagenv.Duration(signer.DefaultMaxKeyAge),
		keyWarning:      flagenv.Duration(signer.DefaultExpiryWarning),
		redisTimeout:    flagenv.Duration(redisstore.DefaultTimeout),
		grace:           flagenv.Duration(25 * time.Second),
	}
	fs.StringVar(&f.listen, "listen", ":8080", "the callback listener's `ADDR` (host:port); the Guard, not the address, decides who is admitted")
	fs.StringVar(&f.adminListen, "admin-listen", "127.0.0.1:9090", "the admin listener's `ADDR` (/healthz, /readyz, /metrics); \"off\": none")
	f.paths = nil
	fs.Var(&f.paths, "path", "the callback `PATHS`, comma-separated, each matched exactly (default /smileid/callback)")
	fs.StringVar(&f.upstream, "upstream", "", "where admitted callbacks go (`URL`, http or https); the request path is appended to its path (required)")
	fs.Var(&f.upstreamTimeout, "upstream-timeout", "how long the upstream may take to answer a callback (`DURATION`); then 504 and the delivery is released")
	f.keys = config.DefineKeyFlags(fs)
	f.allow = config.DefineAllowFlags(fs)
	fs.Var(&f.trustedProxies, "trusted-proxies", "your load balancers or reverse proxies (`LIST` of IPs and CIDRs), whose forwarding header is believed")
	fs.StringVar(&f.forwardedHeader, "forwarded-header", "", "the `HEADER` those proxies write: X-Forwarded-For (the default with --trusted-proxies),\nForwarded, or a one-address header such as X-Real-IP")
	fs.IntVar(&f.maxHops, "max-hops", 0, "the longest forwarding chain accepted, in `ENTRIES` (default 10)")
	fs.Float64Var(&f.rate, "rate", 20, "callbacks per second per client IP (`N`); 0: no rate limit")
	fs.IntVar(&f.burst, "burst", 40, "callbacks a client IP may send at once (`N`)")
	fs.IntVar(&f.rateMaxClients, "rate-max-clients", 0, "client IPs the in-memory rate limit tracks (`N`, default 10000); memory stays bounded by it")
	fs.BoolVar(&f.rateFailOpen, "rate-fail-open", false, "with --redis-url: admit callbacks past the rate limit when Redis fails (they are still verified)")
	f.callback = config.DefineCallbackFlags(fs)
	fs.Var(&f.lease, "lease", "how long a claim on a delivery holds without renewal (`DURATION`); a crashed replica's claim lapses after it")
	fs.IntVar(&f.replayMax, "replay-max-entries", 0, "deliveries the in-memory replay store holds (`N`, default 100000, about 20 MB); without --redis-url")
	fs.Var(&f.keyMaxAge, "key-max-age", "warn at start and daily about keys older than `DURATION` (from created_at); Smile ID asks for 90 days")
	fs.Var(&f.keyWarning, "key-expiry-warning", "warn about keys whose not_after is within `DURATION`")
	fs.StringVar(&f.authBasic, "auth-basic-file", "", "require Basic credentials Smile ID was given: `FILE` (mode 600), one user:password a line")
	fs.StringVar(&f.authBearer, "auth-bearer-file", "", "require a bearer token Smile ID was given: `FILE` (mode 600), one token a line")
	fs.StringVar(&f.authRealm, "auth-realm", "", "the `REALM` named in WWW-Authenticate challenges (default smileid-callback)")
	fs.StringVar(&f.redisURL, "redis-url", "", "keep the replay store and the rate limit in Redis, shared by every replica: `URL`\nredis://[user:password@]host:port/db or rediss:// for TLS")
	fs.StringVar(&f.redisPrefix, "redis-prefix", "", "start every Redis key with `PREFIX` (default smileguard:); replicas that share deliveries share it")
	fs.Var(&f.redisTimeout, "redis-timeout", "bound each Redis call (`DURATION`); a slower Redis means 503 and Smile ID retries")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "serve HTTPS with this certificate chain (PEM `FILE`); with --tls-key; reloaded on SIGHUP")
	fs.StringVar(&f.tlsKey, "tls-key", "", "the certificate's private key (PEM `FILE`)")
	fs.Var(&f.grace, "shutdown-grace", "on SIGTERM, how long in-flight callbacks may take to finish (`DURATION`)")
	fs.StringVar(&f.logLevel, "log-level", "info", "`LEVEL` of the JSON logs: debug (also each admitted callback's checks), info (also each forwarded\ncallback), warn (refusals), error; the listening, reload and shutdown lines are always logged")
	fs.Group("Listening", "listen", "path", "tls-cert", "tls-key", "admin-listen", "shutdown-grace", "log-level")
	fs.Group("Upstream", "upstream", "upstream-timeout")
	fs.Group("Keys", "keys-file", "keys-env-prefix", "key-max-age", "key-expiry-warning")
	fs.Group("Who may call", "environments", "allow-production", "allow-sandbox", "trusted-proxies", "forwarded-header", "max-hops",
		"auth-basic-file", "auth-bearer-file", "auth-realm")
	fs.Group("Rate limit", "rate", "burst", "rate-max-clients", "rate-fail-open")
	fs.Group("Callbacks", "tolerance", "max-body-bytes", "formats", "lease", "replay-max-entries")
	fs.Group("Redis (shared by replicas)", "redis-url", "redis-prefix", "redis-timeout")
	fs.Env("listen", "admin-listen", "path", "upstream", "upstream-timeout", "trusted-proxies", "forwarded-header", "max-hops",
		"rate", "burst", "rate-max-clients", "rate-fail-open", "lease", "replay-max-entries", "key-max-age", "key-expiry-warning",
		"auth-basic-file", "auth-bearer-file", "auth-realm", "redis-url", "redis-prefix", "redis-timeout",
		"tls-cert", "tls-key", "shutdown-grace", "log-level")
	return f
}

func runProxy(e *env, args []string) int {
	f := defineProxyFlags()
	if status, ok := parse(e, f.fs, proxyHelp, args); !ok {
		return status
	}
	if f.fs.NArg() > 0 {
		return fail(e, "proxy", (&config.Problems{fmt.Sprintf("unexpected argument %q", f.fs.Arg(0))}).Err())
	}
	cfg, err := f.config(e.lookup)
	if err != nil {
		return fail(e, "proxy", err)
	}
	var level slog.Level
	_ = level.UnmarshalText([]byte(f.logLevel)) // checked by config
	cfg.Logger = slog.New(slog.NewJSONHandler(e.stdout, &slog.HandlerOptions{Level: level}))
	cfg.Lifecycle = slog.New(slog.NewJSONHandler(e.stdout, &slog.HandlerOptions{Level: min(level, slog.LevelInfo)}))

	p, err := proxy.New(cfg)
	if err != nil {
		// The core's constructors refuse what the flags' checks let
		// through: a configuration error all the same.
		return fail(e, "proxy", (&config.Problems{err.Error()}).Err())
	}
	signals := make(chan os.Signal, 4)
	signal.Notify(signals, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(signals)
	if err := p.Run(signals); err != nil {
		fmt.Fprintf(e.stderr, "smileguard proxy: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// config validates every flag and returns the proxy's configuration, or
// one error listing every problem, each naming its flag.
func (f *proxyFlags) config(lookup func(string) (string, bool)) (proxy.Config, error) {
	var p config.Problems
	cfg := proxy.Config{
		Listen:          f.listen,
		AdminListen:     f.adminListen,
		UpstreamTimeout: time.Duration(f.upstreamTimeout),
		ReplayMax:       f.replayMax,
		RateFailOpen:    f.rateFailOpen,
		RedisPrefix:     f.redisPrefix,
		RedisTimeout:    time.Duration(f.redisTimeout),
		ShutdownGrace:   time.Duration(f.grace),
		TLSCert:         f.tlsCert,
		TLSKey:          f.tlsKey,
	}
	src := f.fs.Source

	if problem := checkListen(f.listen); problem != "" {
		p.Add("%s %q: %s", src("listen"), f.listen, problem)
	}
	switch f.adminListen {
	case "off", "":
		cfg.AdminListen = ""
	default:
		if problem := checkListen(f.adminListen); problem != "" {
			p.Add("%s %q: %s", src("admin-listen"), f.adminListen, problem)
		}
	}

	cfg.Paths = f.paths
	if len(cfg.Paths) == 0 {
		cfg.Paths = []string{"/smileid/callback"}
	}
	for i, path := range cfg.Paths {
		switch {
		case !strings.HasPrefix(path, "/"):
			p.Add("%s %q: a path starts with /", src("path"), path)
		case strings.ContainsAny(path, "{} \t?#"):
			p.Add("%s %q: a path is matched exactly: no wildcards, spaces, query or fragment", src("path"), path)
		case slices.Contains(cfg.Paths[:i], path):
			p.Add("%s %q: listed twice", src("path"), path)
		}
	}

	switch u, err := url.Parse(f.upstream); {
	case f.upstream == "":
		p.Add("%s: required: where to forward admitted callbacks, such as http://127.0.0.1:3000", src("upstream"))
	case err != nil:
		p.Add("%s: not a URL", src("upstream"))
	case u.Scheme != "http" && u.Scheme != "https":
		p.Add("%s: the scheme must be http or https", src("upstream"))
	case u.Host == "":
		p.Add("%s: no host", src("upstream"))
	case u.User != nil:
		p.Add("%s: credentials in the URL are not sent by a reverse proxy; remove them", src("upstream"))
	case u.Fragment != "" || u.RawQuery != "":
		p.Add("%s: no query or fragment: the callback's own path and query are appended", src("upstream"))
	default:
		cfg.Upstream = u
	}
	if cfg.UpstreamTimeout <= 0 {
		p.Add("%s %v: must be positive", src("upstream-timeout"), cfg.UpstreamTimeout)
	}
	if cfg.ShutdownGrace <= 0 {
		p.Add("%s %v: must be positive", src("shutdown-grace"), cfg.ShutdownGrace)
	}

	// The keys: loaded now so that a bad file stops the start.
	before := len(p)
	cfg.Keys = f.keys.Source(lookup, &p)
	if len(p) == before {
		cfg.InitialKeys = f.keys.LoadNamed(cfg.Keys, &p)
	}
	var sets []allowlist.Set
	if len(cfg.InitialKeys) > 0 {
		cfg.Environments, sets = f.allow.Sets(cfg.InitialKeys, &p)
		config.CheckUsable(cfg.Environments, cfg.InitialKeys, time.Now(), &p)
	}
	cfg.Allowlist = allowlist.Config{Allow: sets, MaxHops: f.maxHops}
	if f.maxHops < 0 {
		p.Add("%s %d: must not be negative", src("max-hops"), f.maxHops)
	}

	if len(f.trustedProxies) > 0 {
		set, err := allowlist.ParseSet("trusted proxies", f.trustedProxies...)
		if err != nil {
			p.Add("%s: %v", src("trusted-proxies"), err)
		}
		cfg.Allowlist.TrustedProxies = set.Prefixes
		cfg.Allowlist.Header = f.forwardedHeader
		if cfg.Allowlist.Header == "" {
			cfg.Allowlist.Header = "X-Forwarded-For"
		}
	} else if f.forwardedHeader != "" {
		p.Add("%s is set but --trusted-proxies is not: nobody's header would be believed", src("forwarded-header"))
	}
	if h := cfg.Allowlist.Header; h != "" {
		// The allowlist knows which names are valid; ask it.
		_, err := allowlist.New(allowlist.Config{
			Allow:          []allowlist.Set{allowlist.SmileIDProduction},
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
			Header:         h,
		})
		if err != nil {
			p.Add("%s %q: not a valid header name (an HTTP token without '_')", src("forwarded-header"), h)
		}
	}

	switch {
	case math.IsNaN(f.rate) || math.IsInf(f.rate, 0) || f.rate < 0:
		p.Add("%s %v: not a number of callbacks per second, 0 or more", src("rate"), f.rate)
	case f.rate > 0:
		cfg.RateLimit = &middleware.RateLimitConfig{Rate: rate.Limit(f.rate), Burst: f.burst, MaxClients: f.rateMaxClients}
		if f.burst < 1 {
			p.Add("%s %d: must be at least 1", src("burst"), f.burst)
		}
	}
	if f.rateMaxClients < 0 {
		p.Add("%s %d: must not be negative", src("rate-max-clients"), f.rateMaxClients)
	}
	if f.rateFailOpen && f.redisURL == "" {
		p.Add("%s needs --redis-url: the in-memory rate limit never fails", src("rate-fail-open"))
	}

	cfg.Callback = f.callback.Config(&p)
	cfg.Callback.Lease = time.Duration(f.lease)
	switch {
	case cfg.Callback.Lease <= 0:
		p.Add("%s %v: must be positive", src("lease"), cfg.Callback.Lease)
	case cfg.Callback.Tolerance > 0 && cfg.Callback.Lease > cfg.Callback.Tolerance:
		p.Add("%s %v: over --tolerance %v: a claim must lapse while its callback is still fresh", src("lease"), cfg.Callback.Lease, cfg.Callback.Tolerance)
	}
	if f.replayMax < 0 {
		p.Add("%s %d: must not be negative", src("replay-max-entries"), f.replayMax)
	}
	if f.replayMax > 0 && f.redisURL != "" {
		p.Add("%s: the replay store is in Redis (--redis-url)", src("replay-max-entries"))
	}
	cfg.Callback.KeyPolicy = signer.KeyPolicy{MaxAge: time.Duration(f.keyMaxAge), ExpiryWarning: time.Duration(f.keyWarning)}
	if f.keyMaxAge <= 0 {
		p.Add("%s %v: must be positive", src("key-max-age"), time.Duration(f.keyMaxAge))
	}
	if f.keyWarning < 0 {
		p.Add("%s %v: must not be negative", src("key-expiry-warning"), time.Duration(f.keyWarning))
	}

	cfg.Auth = f.authConfig(&p)

	if f.redisURL != "" {
		if _, err := url.Parse(f.redisURL); err != nil {
			p.Add("%s: not a URL", src("redis-url")) // url's error quotes the URL, password and all
		} else if opts, err := redis.ParseURL(f.redisURL); err != nil {
			p.Add("%s: %v", src("redis-url"), err)
		} else {
			cfg.Redis = opts
		}
	} else if f.redisPrefix != "" {
		p.Add("%s needs --redis-url", src("redis-prefix"))
	}
	if cfg.RedisTimeout <= 0 {
		p.Add("%s %v: must be positive", src("redis-timeout"), cfg.RedisTimeout)
	}

	switch {
	case (f.tlsCert == "") != (f.tlsKey == ""):
		p.Add("--tls-cert and --tls-key come together")
	case f.tlsCert != "":
		for _, name := range []string{"tls-cert", "tls-key"} {
			file := f.tlsCert
			if name == "tls-key" {
				file = f.tlsKey
			}
			if _, err := os.Stat(file); err != nil {
				p.Add("%s: %v", src(name), err)
			}
		}
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		p.Add("%s %q: neither debug, info, warn nor error", src("log-level"), f.logLevel)
	}
	return cfg, p.Err()
}

// checkListen says what is wrong with a listen address, if anything.
func checkListen(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "not host:port"
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return "the port is not a number from 0 to 65535"
	}
	if _, err := netip.ParseAddr(host); host != "" && host != "localhost" && err != nil {
		return "the host is not an IP address"
	}
	return ""
}

func (f *proxyFlags) authConfig(p *config.Problems) *middleware.AuthConfig {
	return config.AuthConfig(f.authBasic, f.authBearer, f.authRealm, f.fs.Source, p)
}
