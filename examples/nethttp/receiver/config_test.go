package receiver

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

const (
	testProductionKey = "prod-key-0f3c9a"
	testSandboxKey    = "sandbox-key-77ab10"
)

// env returns a lookup over vars.
func env(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		value, ok := vars[name]
		return value, ok
	}
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

// without returns base without the given variables.
func without(base map[string]string, names ...string) map[string]string {
	out := with(base)
	for _, name := range names {
		delete(out, name)
	}
	return out
}

var minimal = map[string]string{
	"SMILEID_KEYS":                   "production",
	"SMILEID_PRODUCTION_PARTNER_ID":  "085",
	"SMILEID_PRODUCTION_API_KEY":     testProductionKey,
	"SMILEID_PRODUCTION_ENVIRONMENT": "production",
}

var productionKey = signer.Key{ID: "production", PartnerID: "085", APIKey: testProductionKey, Environment: signer.Production}

// keyFile writes a key file with mode and returns its path.
func keyFile(t *testing.T, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "keys.json")
	content := `{"keys":[{"id":"sandbox-1","partner_id":"085","environment":"sandbox","api_key":"` + testSandboxKey + `"}]}`
	require.NoError(t, os.WriteFile(path, []byte(content), mode))
	require.NoError(t, os.Chmod(path, mode))
	return path
}

func TestFromEnvAcceptsGoodConfigurations(t *testing.T) {
	defaultLimit := middleware.RateLimitConfig{Rate: DefaultRate, Burst: DefaultBurst}
	tests := []struct {
		name string
		vars map[string]string
		want Config
	}{
		{
			name: "one production key, defaults for the rest",
			vars: minimal,
			want: Config{Keys: []signer.Key{productionKey}, Listen: ":8080", RateLimit: defaultLimit},
		},
		{
			name: "both environments, a production key rotating out",
			vars: with(minimal,
				"SMILEID_KEYS", "production, production-old,sandbox",
				"SMILEID_PRODUCTION_OLD_PARTNER_ID", "085", "SMILEID_PRODUCTION_OLD_API_KEY", "old-key-3c1d",
				"SMILEID_PRODUCTION_OLD_ENVIRONMENT", "production", "SMILEID_PRODUCTION_OLD_NOT_AFTER", "2026-12-01T00:00:00Z",
				"SMILEID_SANDBOX_PARTNER_ID", "085", "SMILEID_SANDBOX_API_KEY", testSandboxKey, "SMILEID_SANDBOX_ENVIRONMENT", "sandbox"),
			want: Config{
				Keys: []signer.Key{
					productionKey,
					{ID: "production-old", PartnerID: "085", APIKey: "old-key-3c1d", Environment: signer.Production,
						NotAfter: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
					{ID: "sandbox", PartnerID: "085", APIKey: testSandboxKey, Environment: signer.Sandbox},
				},
				Listen:    ":8080",
				RateLimit: defaultLimit,
			},
		},
		{
			name: "keys from a file, behind proxies with the default header, own listen address and limits",
			vars: map[string]string{
				"SMILEID_KEYS_FILE": keyFile(t, 0o600),
				"SMILEID_KEYS":      " ", // defined but empty, as templates leave it: not set
				EnvTrustedProxies:   "10.0.0.0/8, 192.0.2.7,2001:db8::/32",
				EnvListen:           "127.0.0.1:9000", EnvRate: "2.5", EnvBurst: "5",
			},
			want: Config{
				Keys: []signer.Key{{ID: "sandbox-1", PartnerID: "085", APIKey: testSandboxKey, Environment: signer.Sandbox}},
				TrustedProxies: []netip.Prefix{
					netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"), netip.MustParsePrefix("2001:db8::/32"),
				},
				ForwardedHeader: "X-Forwarded-For",
				Listen:          "127.0.0.1:9000",
				RateLimit:       middleware.RateLimitConfig{Rate: rate.Limit(2.5), Burst: 5},
			},
		},
		{
			name: "Smile ID's production addresses replaced from the environment",
			vars: with(minimal, EnvAllowProduction, "13.51.0.119, 51.20.27.3,34.240.137.0/24"),
			want: Config{
				Keys: []signer.Key{productionKey},
				Allowed: []allowlist.Set{{Name: "production", Environment: signer.Production, Prefixes: []netip.Prefix{
					netip.MustParsePrefix("13.51.0.119/32"), netip.MustParsePrefix("51.20.27.3/32"), netip.MustParsePrefix("34.240.137.0/24"),
				}}},
				Listen:    ":8080",
				RateLimit: defaultLimit,
			},
		},
		{
			name: "the sandbox replaced, production as published",
			vars: with(minimal, "SMILEID_KEYS", "production,sandbox",
				"SMILEID_SANDBOX_PARTNER_ID", "085", "SMILEID_SANDBOX_API_KEY", testSandboxKey, "SMILEID_SANDBOX_ENVIRONMENT", "sandbox",
				EnvAllowSandbox, "13.48.228.158,16.170.104.93"),
			want: Config{
				Keys: []signer.Key{productionKey, {ID: "sandbox", PartnerID: "085", APIKey: testSandboxKey, Environment: signer.Sandbox}},
				Allowed: []allowlist.Set{
					{Name: "sandbox", Environment: signer.Sandbox, Prefixes: []netip.Prefix{
						netip.MustParsePrefix("13.48.228.158/32"), netip.MustParsePrefix("16.170.104.93/32")}},
					allowlist.SmileIDProduction,
				},
				Listen:    ":8080",
				RateLimit: defaultLimit,
			},
		},
		{
			name: "proxies writing Forwarded, IPv6 listen address",
			vars: with(minimal, EnvTrustedProxies, "10.1.2.0/24", EnvForwardedHeader, "Forwarded", EnvListen, "[::1]:8443"),
			want: Config{
				Keys:            []signer.Key{productionKey},
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
		{"nothing set", map[string]string{}, []string{"neither SMILEID_KEYS nor SMILEID_KEYS_FILE is set"}},
		{"keys in both places", with(minimal, "SMILEID_KEYS_FILE", "/etc/smileid/keys.json"),
			[]string{"SMILEID_KEYS and SMILEID_KEYS_FILE are both set"}},
		{"a key's API key missing", without(minimal, "SMILEID_PRODUCTION_API_KEY"),
			[]string{`SMILEID_PRODUCTION_API_KEY is not set (key "production")`}},
		{"a key's partner id missing", without(minimal, "SMILEID_PRODUCTION_PARTNER_ID"), []string{"SMILEID_PRODUCTION_PARTNER_ID is not set"}},
		{"a key's environment unknown", with(minimal, "SMILEID_PRODUCTION_ENVIRONMENT", "prod"), []string{`SMILEID_PRODUCTION_ENVIRONMENT: signer: invalid key "production": Environment is neither`}},
		{"key with the newline of a secrets file", with(minimal, "SMILEID_PRODUCTION_API_KEY", testProductionKey+"\n"),
			[]string{`invalid key "production": APIKey has leading or trailing white space`}},
		{"a sandbox key in the production slot", with(minimal, "SMILEID_PRODUCTION_API_KEY", testSandboxKey),
			[]string{`"production": APIKey names the sandbox environment`}},
		{"a bad rotation time", with(minimal, "SMILEID_PRODUCTION_NOT_AFTER", "next week"), []string{"SMILEID_PRODUCTION_NOT_AFTER"}},
		{"key file missing", map[string]string{"SMILEID_KEYS_FILE": "/nonexistent/keys.json"}, []string{"/nonexistent/keys.json"}},
		{"key file readable by others", map[string]string{"SMILEID_KEYS_FILE": keyFile(t, 0o644)}, []string{"key file is open to other users"}},
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
		{"a callback address that is a hostname", with(minimal, EnvAllowProduction, "13.51.0.119,callbacks.smileidentity.com"),
			[]string{`SMILEGUARD_ALLOW_PRODUCTION: allowlist: ParseSet "production": entry 1 "callbacks.smileidentity.com": not an IP address`}},
		{"sandbox addresses without a sandbox key", with(minimal, EnvAllowSandbox, "13.48.228.158"),
			[]string{"SMILEGUARD_ALLOW_SANDBOX is set but no key is for sandbox"}},
		{"several problems at once", with(without(minimal, "SMILEID_KEYS"), EnvListen, "x", EnvBurst, "-1"),
			[]string{"SMILEID_KEYS", "SMILEGUARD_LISTEN", "SMILEGUARD_BURST"}},
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
			for _, secret := range []string{testProductionKey, testSandboxKey} {
				assert.NotContains(t, err.Error(), secret, "a start-up error never holds a key")
			}
		})
	}
}
