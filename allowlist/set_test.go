package allowlist

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
)

func TestParseSet(t *testing.T) {
	tests := []struct {
		name    string
		entries []string
		want    []string // prefixes; nil means an error is expected
		errText string   // part of the error text
	}{
		{"single IPv4 becomes /32", []string{"52.213.46.74"}, []string{"52.213.46.74/32"}, ""},
		{"single IPv6 becomes /128", []string{"2001:db8::1"}, []string{"2001:db8::1/128"}, ""},
		{"CIDRs of both families are kept", []string{"10.0.0.0/8", "2001:db8::/32"}, []string{"10.0.0.0/8", "2001:db8::/32"}, ""},
		{"v4-mapped address becomes IPv4", []string{"::ffff:52.213.46.74"}, []string{"52.213.46.74/32"}, ""},
		{"v4-mapped prefix becomes IPv4", []string{"::ffff:10.0.0.0/104"}, []string{"10.0.0.0/8"}, ""},
		{"v4-mapped /96 becomes 0.0.0.0/0", []string{"::ffff:0:0/96"}, []string{"0.0.0.0/0"}, ""},
		{"every address is a prefix, not an unspecified address", []string{"0.0.0.0/0", "::/0"}, []string{"0.0.0.0/0", "::/0"}, ""},
		{"empty entry is refused", []string{"10.0.0.1", ""}, nil, `entry 1 "": empty entry`},
		{"spaces are refused", []string{" 10.0.0.1"}, nil, "surrounding spaces"},
		{"hostname is refused", []string{"api.smileidentity.com"}, nil, "not an IP address"},
		{"zone is refused", []string{"fe80::1%eth0"}, nil, "zones are not allowed"},
		{"zone in a prefix is refused", []string{"fe80::1%eth0/64"}, nil, "zones are not allowed"},
		{"host bits are refused", []string{"10.0.0.1/8"}, nil, `"10.0.0.1/8": host bits set (did you mean 10.0.0.0/8?)`},
		{"IPv6 host bits are refused", []string{"2001:db8::1/32"}, nil, "host bits set"},
		{"prefix length too long is refused", []string{"10.0.0.0/33"}, nil, "not a CIDR prefix"},
		{"non-canonical IPv4 is refused", []string{"127.1"}, nil, "not an IP address"},
		{"leading zero is refused", []string{"010.0.0.1"}, nil, "not an IP address"},
		{"unspecified IPv4 is refused", []string{"0.0.0.0"}, nil, "unspecified address"},
		{"unspecified IPv6 is refused", []string{"::"}, nil, "unspecified address"},
		{"no entries are refused", nil, nil, "no entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := ParseSet("office", tt.entries...)
			if tt.want == nil {
				require.Error(t, err)
				assert.ErrorIs(t, err, ErrInvalidConfig)
				assert.Contains(t, err.Error(), "allowlist: ParseSet \"office\"")
				assert.Contains(t, err.Error(), tt.errText)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, "office", set.Name)
			assert.Equal(t, mustPrefixes(t, tt.want...), set.Prefixes)
		})
	}
}

func TestParseSetRefusesEmptyName(t *testing.T) {
	_, err := ParseSet("", "10.0.0.1")
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.EqualError(t, err, "allowlist: ParseSet: empty set name")
}

func TestSmileIDSetsMatchPublishedList(t *testing.T) {
	raw, err := os.ReadFile("testdata/smileid_callback_ips.json")
	require.NoError(t, err)
	var published struct {
		Production []string `json:"production"`
		Sandbox    []string `json:"sandbox"`
	}
	require.NoError(t, json.Unmarshal(raw, &published))

	production, err := ParseSet("production", published.Production...)
	require.NoError(t, err)
	production.Environment = signer.Production
	sandbox, err := ParseSet("sandbox", published.Sandbox...)
	require.NoError(t, err)
	sandbox.Environment = signer.Sandbox
	assert.Equal(t, production, SmileIDProduction)
	assert.Equal(t, sandbox, SmileIDSandbox)
}

func TestReplaceKeepsNameAndEnvironment(t *testing.T) {
	replaced, err := SmileIDProduction.Replace("13.51.0.119", "51.20.27.0/24")
	require.NoError(t, err)
	assert.Equal(t, Set{Name: "production", Environment: signer.Production,
		Prefixes: mustPrefixes(t, "13.51.0.119/32", "51.20.27.0/24")}, replaced)
	assert.Len(t, SmileIDProduction.Prefixes, 4, "the built-in set is unchanged")

	_, err = SmileIDSandbox.Replace("13.48.228.158", "testapi.smileidentity.com")
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), `entry 1 "testapi.smileidentity.com": not an IP address`)
	_, err = SmileIDSandbox.Replace()
	require.ErrorIs(t, err, ErrInvalidConfig, "no entries")
}

func TestSetEnvironmentIsValidated(t *testing.T) {
	_, err := New(Config{Allow: []Set{{Name: "prod", Prefixes: SmileIDProduction.Prefixes, Environment: "prod"}}})
	require.ErrorIs(t, err, ErrInvalidConfig)
	assert.Contains(t, err.Error(), "Config.Allow[0] (\"prod\").Environment")

	// A renamed copy keeps its binding: the field binds, not the name.
	renamed := SmileIDProduction
	renamed.Name = "smile-eu"
	a, err := New(Config{Allow: []Set{renamed}})
	require.NoError(t, err)
	r := httptest.NewRequest(http.MethodPost, "/", nil)
	r.RemoteAddr = "52.213.46.74:443"
	d, err := a.Check(r)
	require.NoError(t, err)
	assert.Equal(t, signer.Production, d.Environment)
}

func TestErrorsAreDenials(t *testing.T) {
	for _, err := range []error{ErrBadPeer, ErrNoHeader, ErrBadHeader, ErrTooManyHops, ErrAllTrusted, ErrNotAllowed, errUnconfigured} {
		assert.ErrorIs(t, err, ErrDenied, err.Error())
		assert.False(t, errors.Is(err, ErrInvalidConfig), err.Error())
		assert.Regexp(t, "^allowlist: ", err.Error())
	}
}

// mustPrefixes parses prefixes for a test.
func mustPrefixes(t testing.TB, s ...string) []netip.Prefix {
	t.Helper()
	out := make([]netip.Prefix, len(s))
	for i, p := range s {
		var err error
		out[i], err = netip.ParsePrefix(p)
		require.NoError(t, err)
	}
	return out
}
