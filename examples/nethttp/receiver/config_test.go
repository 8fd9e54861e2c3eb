package receiver

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

const (
	testProductionKey = "prod-key-0f3c9a"
	testSandboxKey    = "sandbox-key-77ab10"
)

// env returns a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

// with returns base with the given variables added or replaced.
func with(base map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(base)+len(kv)/2)
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

var minimal = map[string]string{
	EnvPartnerID:        "085",
	EnvProductionAPIKey: testProductionKey,
}

func TestFromEnvAcceptsGoodConfigurations(t *testing.T) {
	defaultLimit := middleware.RateLimitConfig{Rate: DefaultRate, Burst: DefaultBurst}
	tests := []struct {
		name string
		vars map[string]string
		want Config
	}{
		{
			name: "production key alone, defaults for the rest",
			vars: minimal,
			want: Config{
				Keys:      []signer.Key{{ID: "production", PartnerID: "085", APIKey: testProductionKey, Environment: signer.Production}},
				Listen:    ":8080",
				RateLimit: defaultLimit,
			},
		},
		{
			name: "both environments, listed, with a previous production key",
			vars: with(minimal, EnvSandboxAPIKey, testSandboxKey, EnvProductionPreviousKey, "old-prod-key",
				EnvEnvironments, "sandbox, production"),
			want: Config{
				Keys: []signer.Key{
					{ID: "production", PartnerID: "085", APIKey: testProductionKey, Environment: signer.Production},
					{ID: "production-previous", PartnerID: "085", APIKey: "old-prod-key", Environment: signer.Production},
					{ID: "sandbox", PartnerID: "085", APIKey: testSandboxKey, Environment: signer.Sandbox},
				},
				Listen:    ":8080",
				RateLimit: defaultLimit,
			},
		},
		{
			name: "sandbox only, behind proxies with the default header, own listen address and limits",
			vars: map[string]string{
				EnvPartnerID: "1622", EnvSandboxAPIKey: testSandboxKey,
				EnvTrustedProxies: "10.0.0.0/8, 192.0.2.7,2001:db8::/32",
				EnvListen:         "127.0.0.1:9000", EnvRate: "2.5", EnvBurst: "5",
			},
			want: Config{
				Keys: []signer.Key{{ID: "sandbox", PartnerID: "1622", APIKey: testSandboxKey, Environment: signer.Sandbox}},
				TrustedProxies: []netip.Prefix{
					netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32"),
				},
				ForwardedHeader: "X-Forwarded-For",
				Listen:          "127.0.0.1:9000",
				RateLimit:       middleware.RateLimitConfig{Rate: rate.Limit(2.5), Burst: 5},
			},
		},
		{
			name: "proxies writing Forwarded, IPv6 listen address",
			vars: with(minimal, EnvTrustedProxies, "10.1.2.0/24", EnvForwardedHeader, "Forwarded", EnvListen, "[::1]:8443"),
			want: Config{
				Keys:            []signer.Key{{ID: "production", PartnerID: "085", APIKey: testProductionKey, Environment: signer.Production}},
				TrustedProxies:  []netip.Prefix{netip.MustParsePrefix("10.1.2.0/24")},
				ForwardedHeader: "Forwarded",
				Listen:          "[::1]:8443",
				RateLimit:       defaultLimit,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := FromEnv(env(tt.vars))
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg)
			_, err = NewHandler(cfg, discardLogger())
			assert.NoError(t, err, "a configuration FromEnv accepts builds a handler")
		})
	}
}

func TestFromEnvNamesEveryBadVariable(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want []string // each must appear in the error
	}{
		{"nothing set", map[string]string{},
			[]string{"SMILEID_PARTNER_ID is not set", "neither SMILEID_PRODUCTION_API_KEY nor SMILEID_SANDBOX_API_KEY is set"}},
		{"partner id missing", with(minimal, EnvPartnerID, ""), []string{"SMILEID_PARTNER_ID is not set"}},
		{"partner id padded", with(minimal, EnvPartnerID, " 085"), []string{"SMILEID_PARTNER_ID has white space around it"}},
		{"no API key", map[string]string{EnvPartnerID: "085"}, []string{"neither SMILEID_PRODUCTION_API_KEY nor SMILEID_SANDBOX_API_KEY"}},
		{"key with the newline of a secrets file", with(minimal, EnvProductionAPIKey, testProductionKey+"\n"),
			[]string{"SMILEID_PRODUCTION_API_KEY has white space around it"}},
		{"sandbox key padded", with(minimal, EnvSandboxAPIKey, "\t"+testSandboxKey),
			[]string{"SMILEID_SANDBOX_API_KEY has white space around it"}},
		{"previous key without a current one", with(minimal, EnvSandboxPreviousKey, "old-sandbox-key"),
			[]string{"SMILEID_SANDBOX_API_KEY_PREVIOUS is set without SMILEID_SANDBOX_API_KEY"}},
		{"unknown environment", with(minimal, EnvEnvironments, "prod"), []string{`SMILEID_ENVIRONMENTS: "prod" is not an environment`}},
		{"empty environment in the list", with(minimal, EnvEnvironments, "production,"), []string{`SMILEID_ENVIRONMENTS: "" is not an environment`}},
		{"environment listed without its key", with(minimal, EnvEnvironments, "production,sandbox"),
			[]string{"SMILEID_ENVIRONMENTS lists sandbox but no sandbox API key is set"}},
		{"key of an environment not listed", with(minimal, EnvSandboxAPIKey, testSandboxKey, EnvEnvironments, "sandbox"),
			[]string{"a production API key is set but SMILEID_ENVIRONMENTS does not list production"}},
		{"proxy CIDR with host bits", with(minimal, EnvTrustedProxies, "10.0.0.1/8"), []string{"SMILEGUARD_TRUSTED_PROXIES", "10.0.0.1/8"}},
		{"proxy hostname", with(minimal, EnvTrustedProxies, "lb.internal"), []string{"SMILEGUARD_TRUSTED_PROXIES", "lb.internal"}},
		{"empty proxy entry", with(minimal, EnvTrustedProxies, "10.0.0.0/8,,10.1.0.0/16"), []string{"SMILEGUARD_TRUSTED_PROXIES", "empty entry"}},
		{"header without proxies", with(minimal, EnvForwardedHeader, "X-Forwarded-For"),
			[]string{"SMILEGUARD_FORWARDED_HEADER is set but SMILEGUARD_TRUSTED_PROXIES is not"}},
		{"header with an underscore", with(minimal, EnvTrustedProxies, "10.0.0.0/8", EnvForwardedHeader, "X_Forwarded_For"),
			[]string{`SMILEGUARD_FORWARDED_HEADER "X_Forwarded_For" is not a valid header name`}},
		{"listen without a port", with(minimal, EnvListen, "8080"), []string{`SMILEGUARD_LISTEN "8080": not host:port`}},
		{"listen port out of range", with(minimal, EnvListen, ":99999"), []string{`SMILEGUARD_LISTEN ":99999": the port is not a number`}},
		{"listen on a hostname", with(minimal, EnvListen, "example.com:80"), []string{`SMILEGUARD_LISTEN "example.com:80": the host is not an IP address`}},
		{"rate zero", with(minimal, EnvRate, "0"), []string{`SMILEGUARD_RATE "0" is not a positive number`}},
		{"rate negative", with(minimal, EnvRate, "-3"), []string{`SMILEGUARD_RATE "-3"`}},
		{"rate not a number", with(minimal, EnvRate, "fast"), []string{`SMILEGUARD_RATE "fast"`}},
		{"rate infinite", with(minimal, EnvRate, "Inf"), []string{`SMILEGUARD_RATE "Inf"`}},
		{"rate NaN", with(minimal, EnvRate, "NaN"), []string{`SMILEGUARD_RATE "NaN"`}},
		{"burst zero", with(minimal, EnvBurst, "0"), []string{`SMILEGUARD_BURST "0" is not a whole number`}},
		{"burst fractional", with(minimal, EnvBurst, "1.5"), []string{`SMILEGUARD_BURST "1.5"`}},
		{"several problems at once", with(minimal, EnvPartnerID, "", EnvListen, "x", EnvBurst, "-1"),
			[]string{"SMILEID_PARTNER_ID", "SMILEGUARD_LISTEN", "SMILEGUARD_BURST"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := FromEnv(env(tt.vars))
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrConfig)
			assert.Zero(t, cfg)
			for _, want := range tt.want {
				assert.Contains(t, err.Error(), want)
			}
			for _, secret := range []string{testProductionKey, testSandboxKey, "old-sandbox-key"} {
				assert.NotContains(t, err.Error(), secret, "a start-up error never holds a key")
			}
		})
	}
}
