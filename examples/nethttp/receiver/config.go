package receiver

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// The environment variables FromEnv reads; the package documentation says
// what each one means.
const (
	EnvKeys            = "SMILEID_KEYS"      // read by signer.LoadKeysEnv, with each key's own variables
	EnvKeysFile        = "SMILEID_KEYS_FILE" // read by signer.LoadKeysFile
	EnvTrustedProxies  = "SMILEGUARD_TRUSTED_PROXIES"
	EnvForwardedHeader = "SMILEGUARD_FORWARDED_HEADER"
	EnvListen          = "SMILEGUARD_LISTEN"
	EnvRate            = "SMILEGUARD_RATE"
	EnvBurst           = "SMILEGUARD_BURST"
	EnvAllowProduction = "SMILEGUARD_ALLOW_PRODUCTION" // replaces allowlist.SmileIDProduction's addresses
	EnvAllowSandbox    = "SMILEGUARD_ALLOW_SANDBOX"    // replaces allowlist.SmileIDSandbox's addresses
)

// The defaults of the optional variables.
const (
	DefaultListen            = ":8080"
	DefaultRate   rate.Limit = 20 // per client IP; Smile ID sends from four addresses per environment
	DefaultBurst             = 40
)

// Config is the receiver's configuration. FromEnv builds one from
// environment variables; a test or a load test may fill one in directly.
type Config struct {
	// Keys are the API keys callbacks may be signed with, at least one.
	// Their environments are the ones whose callbacks are accepted, each
	// from Smile ID's addresses for it.
	Keys []signer.Key

	// Allowed are the callback address sets, one per environment of Keys.
	// Nil: Smile ID's published sets (allowlist.SmileIDProduction,
	// allowlist.SmileIDSandbox) for those environments. FromEnv replaces
	// a set's addresses from SMILEGUARD_ALLOW_PRODUCTION or
	// SMILEGUARD_ALLOW_SANDBOX.
	Allowed []allowlist.Set

	// TrustedProxies are your load balancers; empty: the peer is the
	// client.
	TrustedProxies []netip.Prefix

	// ForwardedHeader is the header TrustedProxies write; it must be empty
	// without them.
	ForwardedHeader string

	// Listen is the address ListenAndServe listens on.
	Listen string

	// RateLimit limits each client IP.
	RateLimit middleware.RateLimitConfig

	// Observe, if not nil, is told of every decision of the Guard (for
	// metrics: middleware/prommetrics, middleware/otelmetrics).
	Observe middleware.Observer
}

// LogValue implements slog.LogValuer: everything but the API keys, of which
// only the IDs and environments are shown.
func (c Config) LogValue() slog.Value {
	keys := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		keys[i] = k.ID + " (" + string(k.Environment) + ")"
	}
	proxies := make([]string, len(c.TrustedProxies))
	for i, p := range c.TrustedProxies {
		proxies[i] = p.String()
	}
	allowed := map[string][]string{}
	for _, set := range c.allowed() {
		for _, p := range set.Prefixes {
			allowed[set.Name] = append(allowed[set.Name], p.String())
		}
	}
	return slog.GroupValue(
		slog.Any("keys", keys),
		slog.Any("allowed", allowed),
		slog.Any("trusted_proxies", proxies),
		slog.String("forwarded_header", c.ForwardedHeader),
		slog.String("listen", c.Listen),
		slog.Float64("rate", float64(c.RateLimit.Rate)),
		slog.Int("burst", c.RateLimit.Burst),
	)
}

// ErrConfig is wrapped by every error FromEnv returns.
var ErrConfig = errors.New("receiver: bad configuration")

// FromEnv reads the configuration from the environment variables listed in
// the package documentation, through lookup (os.LookupEnv in main). Its
// error names every variable that is missing or bad, and never holds a key.
func FromEnv(lookup func(string) (string, bool)) (Config, error) {
	getenv := func(name string) string {
		value, _ := lookup(name)
		return value
	}
	var p problems
	cfg := Config{
		Listen:    DefaultListen,
		RateLimit: middleware.RateLimitConfig{Rate: DefaultRate, Burst: DefaultBurst},
	}

	// An empty variable is unset, as LoadKeysEnv reads it: deployment
	// templates often define every variable, some empty.
	fromEnv := strings.TrimSpace(getenv(EnvKeys)) != ""
	file := getenv(EnvKeysFile)
	var err error
	switch {
	case !fromEnv && file == "":
		p.add("neither %s nor %s is set", EnvKeys, EnvKeysFile)
	case fromEnv && file != "":
		p.add("%s and %s are both set: keep the keys in one place", EnvKeys, EnvKeysFile)
	case file != "":
		cfg.Keys, err = signer.LoadKeysFile(file)
	default:
		cfg.Keys, err = signer.LoadKeysEnv("", lookup)
	}
	if err != nil {
		p.add("%v", err) // names the variable or file and the key, never a value
	}
	keysLoaded := err == nil

	if list := getenv(EnvTrustedProxies); list != "" {
		set, err := allowlist.ParseSet("proxies", splitList(list)...)
		if err != nil {
			p.add("%s: %v", EnvTrustedProxies, err)
		}
		cfg.TrustedProxies = set.Prefixes
	}

	// Smile ID's callback addresses, replaceable the day Smile ID
	// announces a change, without a new release.
	for _, v := range []struct {
		name string
		set  allowlist.Set
	}{
		{EnvAllowProduction, allowlist.SmileIDProduction},
		{EnvAllowSandbox, allowlist.SmileIDSandbox},
	} {
		list := getenv(v.name)
		if strings.TrimSpace(list) == "" {
			continue
		}
		if keysLoaded && !hasEnvironment(cfg.Keys, v.set.Environment) {
			p.add("%s is set but no key is for %s", v.name, v.set.Environment)
			continue
		}
		set, err := v.set.Replace(splitList(list)...)
		if err != nil {
			p.add("%s: %v", v.name, err)
			continue
		}
		cfg.Allowed = append(cfg.Allowed, set)
	}
	if cfg.Allowed != nil {
		// The environments not replaced keep Smile ID's published sets.
		for _, set := range smileIDSets(cfg.Keys) {
			if !hasSet(cfg.Allowed, set.Environment) {
				cfg.Allowed = append(cfg.Allowed, set)
			}
		}
	}
	cfg.ForwardedHeader = getenv(EnvForwardedHeader)
	switch {
	case cfg.ForwardedHeader != "" && getenv(EnvTrustedProxies) == "":
		p.add("%s is set but %s is not: nobody's header would be believed", EnvForwardedHeader, EnvTrustedProxies)
	case cfg.ForwardedHeader == "" && len(cfg.TrustedProxies) > 0:
		cfg.ForwardedHeader = "X-Forwarded-For"
	case cfg.ForwardedHeader != "":
		// The allowlist knows which names are valid; ask it.
		_, err := allowlist.New(allowlist.Config{
			Allow:          []allowlist.Set{allowlist.SmileIDProduction},
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")},
			Header:         cfg.ForwardedHeader,
		})
		if err != nil {
			p.add("%s %q is not a valid header name", EnvForwardedHeader, cfg.ForwardedHeader)
		}
	}

	if listen := getenv(EnvListen); listen != "" {
		if problem := checkListen(listen); problem != "" {
			p.add("%s %q: %s", EnvListen, listen, problem)
		}
		cfg.Listen = listen
	}

	if s := getenv(EnvRate); s != "" {
		r, err := strconv.ParseFloat(s, 64)
		if err != nil || r <= 0 || math.IsInf(r, 0) || math.IsNaN(r) {
			p.add("%s %q is not a positive number of requests per second", EnvRate, s)
		}
		cfg.RateLimit.Rate = rate.Limit(r)
	}
	if s := getenv(EnvBurst); s != "" {
		b, err := strconv.Atoi(s)
		if err != nil || b < 1 {
			p.add("%s %q is not a whole number of requests, at least 1", EnvBurst, s)
		}
		cfg.RateLimit.Burst = b
	}

	if err := p.err(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// splitList splits a comma-separated list, trimming spaces around entries.
func splitList(list string) []string {
	entries := strings.Split(list, ",")
	for i := range entries {
		entries[i] = strings.TrimSpace(entries[i])
	}
	return entries
}

// hasEnvironment reports whether a key of keys is for env.
func hasEnvironment(keys []signer.Key, env signer.Environment) bool {
	for _, k := range keys {
		if k.Environment == env {
			return true
		}
	}
	return false
}

// hasSet reports whether sets holds one bound to env.
func hasSet(sets []allowlist.Set, env signer.Environment) bool {
	for _, s := range sets {
		if s.Environment == env {
			return true
		}
	}
	return false
}

// allowed returns the callback sets: Allowed, or Smile ID's published ones
// for the environments of Keys.
func (c Config) allowed() []allowlist.Set {
	if c.Allowed != nil {
		return c.Allowed
	}
	return smileIDSets(c.Keys)
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

// problems collects every configuration problem, so that one start-up
// error lists them all.
type problems []string

func (p *problems) add(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrConfig, strings.Join(p, "; "))
}
