package allowlist

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewRefusesBadConfig(t *testing.T) {
	lbs := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"zero config allows nothing", Config{},
			"allowlist: Config.Allow is empty: the allowlist would admit nothing"},
		{"set without name", Config{Allow: []Set{SmileIDProduction, {Prefixes: SmileIDSandbox.Prefixes}}},
			"allowlist: Config.Allow[1].Name is empty"},
		{"duplicate set name", Config{Allow: []Set{SmileIDProduction, {Name: "production", Prefixes: SmileIDSandbox.Prefixes}}},
			`allowlist: Config.Allow[1].Name "production" is used twice`},
		{"set without prefixes", Config{Allow: []Set{{Name: "office"}}},
			`allowlist: Config.Allow[0] ("office") has no prefixes`},
		{"invalid allowed prefix", Config{Allow: []Set{{Name: "office", Prefixes: []netip.Prefix{{}}}}},
			"allowlist: Config.Allow[0].Prefixes[0] invalid Prefix: invalid prefix"},
		{"allowed prefix with host bits", Config{Allow: []Set{{Name: "office", Prefixes: []netip.Prefix{netip.MustParsePrefix("10.0.0.1/8")}}}},
			"allowlist: Config.Allow[0].Prefixes[0] 10.0.0.1/8: host bits set (did you mean 10.0.0.0/8?)"},
		{"trusted proxy with host bits", Config{Allow: []Set{SmileIDProduction}, Header: "X-Forwarded-For",
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::1/8")}},
			"allowlist: Config.TrustedProxies[1] fd00::1/8: host bits set (did you mean fd00::/8?)"},
		{"header with underscore", Config{Allow: []Set{SmileIDProduction}, TrustedProxies: lbs, Header: "X_Forwarded_For"},
			`allowlist: Config.Header "X_Forwarded_For" is not a valid header name (an HTTP token without '_')`},
		{"header with space", Config{Allow: []Set{SmileIDProduction}, TrustedProxies: lbs, Header: "X-Forwarded-For "},
			`allowlist: Config.Header "X-Forwarded-For " is not a valid header name (an HTTP token without '_')`},
		{"header with colon", Config{Allow: []Set{SmileIDProduction}, TrustedProxies: lbs, Header: "X-Real-IP:"},
			`allowlist: Config.Header "X-Real-IP:" is not a valid header name (an HTTP token without '_')`},
		{"trusted proxies without header", Config{Allow: []Set{SmileIDProduction}, TrustedProxies: lbs},
			"allowlist: Config.TrustedProxies is set but Config.Header is empty: no header would be read"},
		{"header without trusted proxies", Config{Allow: []Set{SmileIDProduction}, Header: "X-Forwarded-For"},
			`allowlist: Config.Header "X-Forwarded-For" is set but Config.TrustedProxies is empty: the header would never be read`},
		{"negative MaxHops", Config{Allow: []Set{SmileIDProduction}, MaxHops: -1},
			"allowlist: Config.MaxHops is negative (-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, a)
			assert.ErrorIs(t, err, ErrInvalidConfig)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestNewNormalisesConfig(t *testing.T) {
	s, err := compile(Config{
		Allow:          []Set{SmileIDProduction, SmileIDSandbox},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")},
		Header:         "x-forwarded-for",
	})
	require.NoError(t, err)
	assert.Equal(t, "X-Forwarded-For", s.header, "the header key is canonical")
	assert.Equal(t, headerXFF, s.kind)
	assert.Equal(t, DefaultMaxHops, s.maxHops, "MaxHops 0 means the default")
	assert.NotNil(t, s.denied, "a nil Denied gets the default handler")
	assert.True(t, s.trusted.contains(netip.MustParseAddr("10.1.2.3")), "a v4-mapped prefix covers IPv4")
	assert.Equal(t, []string{"production", "sandbox"}, s.names)

	for name, kind := range map[string]headerKind{"": headerNone, "forwarded": headerForwarded, "X-Real-IP": headerSingle, "CF-Connecting-IP": headerSingle} {
		_, got, err := compileHeader(name)
		require.NoError(t, err)
		assert.Equal(t, kind, got, name)
	}
}

func TestNewCopiesPrefixes(t *testing.T) {
	office := Set{Name: "office", Prefixes: []netip.Prefix{netip.MustParsePrefix("198.51.100.0/24")}}
	a, err := New(Config{Allow: []Set{office}})
	require.NoError(t, err)
	office.Prefixes[0] = netip.MustParsePrefix("203.0.113.0/24")

	_, err = a.Check(newRequest("198.51.100.1:1"))
	assert.NoError(t, err, "changing the Set after New changes nothing")
	_, err = a.Check(newRequest("203.0.113.1:1"))
	assert.ErrorIs(t, err, ErrNotAllowed)
}
