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
	EnvPartnerID             = "SMILEID_PARTNER_ID"
	EnvProductionAPIKey      = "SMILEID_PRODUCTION_API_KEY"
	EnvSandboxAPIKey         = "SMILEID_SANDBOX_API_KEY"
	EnvProductionPreviousKey = "SMILEID_PRODUCTION_API_KEY_PREVIOUS"
	EnvSandboxPreviousKey    = "SMILEID_SANDBOX_API_KEY_PREVIOUS"
	EnvEnvironments          = "SMILEID_ENVIRONMENTS"
	EnvTrustedProxies        = "SMILEGUARD_TRUSTED_PROXIES"
	EnvForwardedHeader       = "SMILEGUARD_FORWARDED_HEADER"
	EnvListen                = "SMILEGUARD_LISTEN"
	EnvRate                  = "SMILEGUARD_RATE"
	EnvBurst                 = "SMILEGUARD_BURST"
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
	// Their environments are the ones whose callbacks are accepted.
	Keys []signer.Key

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
}

// LogValue implements slog.LogValuer: everything but the API keys, of which
// only the IDs are shown.
func (c Config) LogValue() slog.Value {
	ids := make([]string, len(c.Keys))
	for i, k := range c.Keys {
		ids[i] = k.ID
	}
	partnerID := ""
	if len(c.Keys) > 0 {
		partnerID = c.Keys[0].PartnerID
	}
	proxies := make([]string, len(c.TrustedProxies))
	for i, p := range c.TrustedProxies {
		proxies[i] = p.String()
	}
	return slog.GroupValue(
		slog.String("partner_id", partnerID),
		slog.Any("keys", ids),
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
// the package documentation, through getenv (os.Getenv in main). Its error
// names every variable that is missing or bad, and never holds a key.
func FromEnv(getenv func(string) string) (Config, error) {
	var p problems
	cfg := Config{
		Listen:    DefaultListen,
		RateLimit: middleware.RateLimitConfig{Rate: DefaultRate, Burst: DefaultBurst},
	}

	partnerID := getenv(EnvPartnerID)
	switch {
	case partnerID == "":
		p.add("%s is not set", EnvPartnerID)
	case strings.TrimSpace(partnerID) != partnerID:
		p.add("%s has white space around it", EnvPartnerID)
	}

	keyVars := []struct {
		name     string
		id       string
		env      signer.Environment
		requires string // a previous key only makes sense beside a current one
	}{
		{EnvProductionAPIKey, "production", signer.Production, ""},
		{EnvProductionPreviousKey, "production-previous", signer.Production, EnvProductionAPIKey},
		{EnvSandboxAPIKey, "sandbox", signer.Sandbox, ""},
		{EnvSandboxPreviousKey, "sandbox-previous", signer.Sandbox, EnvSandboxAPIKey},
	}
	hasKey := map[signer.Environment]bool{}
	for _, kv := range keyVars {
		apiKey := getenv(kv.name)
		switch {
		case apiKey == "":
			continue
		case strings.TrimSpace(apiKey) != apiKey:
			// A trailing newline from a secrets file is the usual cause.
			p.add("%s has white space around it", kv.name)
			continue
		case kv.requires != "" && getenv(kv.requires) == "":
			p.add("%s is set without %s", kv.name, kv.requires)
			continue
		}
		cfg.Keys = append(cfg.Keys, signer.Key{ID: kv.id, PartnerID: partnerID, APIKey: apiKey, Environment: kv.env})
		hasKey[kv.env] = true
	}
	if getenv(EnvProductionAPIKey) == "" && getenv(EnvSandboxAPIKey) == "" {
		p.add("neither %s nor %s is set", EnvProductionAPIKey, EnvSandboxAPIKey)
	}

	if list := getenv(EnvEnvironments); list != "" {
		listed := map[signer.Environment]bool{}
		for _, name := range strings.Split(list, ",") {
			env := signer.Environment(strings.TrimSpace(name))
			if !env.Valid() {
				p.add("%s: %q is not an environment (production, sandbox)", EnvEnvironments, name)
				continue
			}
			listed[env] = true
			if !hasKey[env] {
				p.add("%s lists %s but no %s API key is set", EnvEnvironments, env, env)
			}
		}
		for _, env := range []signer.Environment{signer.Production, signer.Sandbox} {
			if hasKey[env] && !listed[env] {
				p.add("a %s API key is set but %s does not list %s", env, EnvEnvironments, env)
			}
		}
	}

	if list := getenv(EnvTrustedProxies); list != "" {
		entries := strings.Split(list, ",")
		for i := range entries {
			entries[i] = strings.TrimSpace(entries[i])
		}
		set, err := allowlist.ParseSet("proxies", entries...)
		if err != nil {
			p.add("%s: %v", EnvTrustedProxies, err)
		}
		cfg.TrustedProxies = set.Prefixes
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
