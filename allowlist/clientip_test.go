package allowlist

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
)

// The configuration most cases run under: both Smile ID sets and a
// documentation set are allowed; load balancers in 10.0.0.0/8, fd00::/8 and
// link-local fe80::/10 are trusted.
var docsSet = Set{Name: "docs", Prefixes: []netip.Prefix{
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("2001:db8:1::/48"),
	netip.MustParsePrefix("2001:db8:2::1/128"),
}}

func baseConfig(header string) Config {
	return Config{
		Allow: []Set{SmileIDProduction, SmileIDSandbox, docsSet},
		TrustedProxies: []netip.Prefix{
			netip.MustParsePrefix("10.0.0.0/8"),
			netip.MustParsePrefix("fd00::/8"),
			netip.MustParsePrefix("fe80::/10"),
		},
		Header: header,
	}
}

// requestCase is one request and the decision expected for it.
type requestCase struct {
	name       string
	header     string              // Config.Header
	config     func(*Config)       // changes to baseConfig, if any
	remoteAddr string              // "" is kept as is
	headers    map[string][]string // stored as given, without canonicalising
	wantIP     string              // the resolved client, "" if none
	wantSet    string              // the matching set, "" if denied
	wantErr    error               // nil if admitted
}

const (
	lb    = "10.0.0.7:51234" // a trusted load balancer
	smile = "52.213.46.74"   // a Smile ID production address
	evil  = "6.6.6.6"        // an attacker
)

func xff(v ...string) map[string][]string { return map[string][]string{"X-Forwarded-For": v} }

// admitted and denied build the expectations of a case.
func admitted(ip, set string) (string, string, error) { return ip, set, nil }
func notAllowed(ip string) (string, string, error)    { return ip, "", ErrNotAllowed }
func denied(err error) (string, string, error)        { return "", "", err }

func runRequestCases(t *testing.T, tests []requestCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := baseConfig(tt.header)
			if tt.config != nil {
				tt.config(&cfg)
			}
			a, err := New(cfg)
			require.NoError(t, err)
			r := httptest.NewRequest(http.MethodPost, "/callback", nil)
			r.RemoteAddr = tt.remoteAddr
			r.Header = http.Header(tt.headers)

			d, err := a.Check(r)
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorIs(t, err, ErrDenied)
			}
			var wantIP netip.Addr
			if tt.wantIP != "" {
				wantIP = netip.MustParseAddr(tt.wantIP)
			}
			assert.Equal(t, Decision{ClientIP: wantIP, Set: tt.wantSet, Environment: setEnvironment(tt.wantSet)}, d)
		})
	}
}

// set fills the expectations of c from one of admitted, notAllowed, denied.
func (c requestCase) want(ip, set string, err error) requestCase {
	c.wantIP, c.wantSet, c.wantErr = ip, set, err
	return c
}

func TestCheckHostileRequests(t *testing.T) {
	const XFF, XRealIP = "X-Forwarded-For", "X-Real-IP"
	oneMegabyte := strings.Repeat(evil+", ", 1<<20/len(evil+", ")) + smile
	tenThousand := strings.Repeat("10.1.2.3,", 9999) + "10.1.2.3"
	allowAnyIPv4 := func(c *Config) {
		c.Allow = []Set{{Name: "anyone", Prefixes: []netip.Prefix{netip.MustParsePrefix("0.0.0.0/0")}}}
	}
	tests := []requestCase{
		// The peer.
		requestCase{name: "direct Smile ID peer is admitted", header: XFF, remoteAddr: smile + ":443"}.want(admitted(smile, "production")),
		requestCase{name: "direct sandbox peer is admitted as sandbox", header: XFF, remoteAddr: "99.81.237.141:443"}.want(admitted("99.81.237.141", "sandbox")),
		requestCase{name: "spoofed XFF from untrusted peer is ignored", header: XFF, remoteAddr: evil + ":1234", headers: xff(smile)}.want(notAllowed(evil)),
		requestCase{name: "spoofed X-Real-IP from untrusted peer is ignored", header: XRealIP, remoteAddr: evil + ":1234", headers: map[string][]string{"X-Real-Ip": {smile}}}.want(notAllowed(evil)),
		requestCase{name: "garbage header from untrusted Smile ID peer is never read", header: XFF, remoteAddr: smile + ":443", headers: xff("garbage", "unknown")}.want(admitted(smile, "production")),
		requestCase{name: "empty RemoteAddr is denied", header: XFF, remoteAddr: ""}.want(denied(ErrBadPeer)),
		requestCase{name: "Unix socket RemoteAddr @ is denied", header: XFF, remoteAddr: "@"}.want(denied(ErrBadPeer)),
		requestCase{name: "hostname RemoteAddr is denied", header: XFF, remoteAddr: "localhost:80"}.want(denied(ErrBadPeer)),
		requestCase{name: "unspecified RemoteAddr is denied", header: XFF, remoteAddr: "0.0.0.0:80"}.want(denied(ErrBadPeer)),
		requestCase{name: "RemoteAddr with an invalid port is denied", header: XFF, remoteAddr: smile + ":99999"}.want(denied(ErrBadPeer)),
		requestCase{name: "bare IPv4 RemoteAddr without port is parsed", header: XFF, remoteAddr: smile}.want(admitted(smile, "production")),
		requestCase{name: "bracketed IPv6 RemoteAddr without port is parsed", header: XFF, remoteAddr: "[2001:db8:1::5]"}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "bare IPv6 RemoteAddr is parsed", header: XFF, remoteAddr: "2001:db8:1::5"}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "zoned peer is trusted after dropping the zone", header: XFF, remoteAddr: "[fe80::1%eth0]:443", headers: xff(smile)}.want(admitted(smile, "production")),
		requestCase{name: "v4-mapped trusted peer is unmapped before the prefix test", header: XFF, remoteAddr: "[::ffff:10.0.0.7]:443", headers: xff(smile)}.want(admitted(smile, "production")),
		requestCase{name: "v4-mapped untrusted peer is the unmapped client", header: XFF, remoteAddr: "[::ffff:52.213.46.74]:443"}.want(admitted(smile, "production")),
		requestCase{name: "trusted IPv6 load balancer is skipped", header: XFF, remoteAddr: "[fd00::7]:443", headers: xff(smile)}.want(admitted(smile, "production")),

		// The walk.
		requestCase{name: "single XFF entry behind trusted proxy is the client", header: XFF, remoteAddr: lb, headers: xff(smile)}.want(admitted(smile, "production")),
		requestCase{name: "forged left part behind trusted proxy is not read", header: XFF, remoteAddr: lb, headers: xff(smile + ", " + evil)}.want(notAllowed(evil)),
		requestCase{name: "two trusted proxies are skipped", header: XFF, remoteAddr: lb, headers: xff(evil + ", " + smile + ", 10.1.2.3")}.want(admitted(smile, "production")),
		requestCase{name: "last XFF line is read first", header: XFF, remoteAddr: lb, headers: xff(smile, evil)}.want(notAllowed(evil)),
		requestCase{name: "earlier XFF line is read once the last is all trusted", header: XFF, remoteAddr: lb, headers: xff(evil+", "+smile, "10.1.2.3, 10.1.2.4")}.want(admitted(smile, "production")),
		requestCase{name: "spaces and tabs around entries are optional whitespace", header: XFF, remoteAddr: lb, headers: xff(evil + " ,\t" + smile + " \t, 10.1.2.3\t")}.want(admitted(smile, "production")),
		requestCase{name: "empty entry in the walk is denied", header: XFF, remoteAddr: lb, headers: xff(smile + ",,10.1.2.3")}.want(denied(ErrBadHeader)),
		requestCase{name: "trailing comma is an empty entry and denied", header: XFF, remoteAddr: lb, headers: xff(smile + ",")}.want(denied(ErrBadHeader)),
		requestCase{name: "leading comma left of the client is never read", header: XFF, remoteAddr: lb, headers: xff("," + smile)}.want(admitted(smile, "production")),
		requestCase{name: "leading comma reached by the walk is denied", header: XFF, remoteAddr: lb, headers: xff(", 10.1.2.3")}.want(denied(ErrBadHeader)),
		requestCase{name: "empty header value is denied", header: XFF, remoteAddr: lb, headers: xff("")}.want(denied(ErrBadHeader)),
		requestCase{name: "whitespace-only header value is denied", header: XFF, remoteAddr: lb, headers: xff(" \t ")}.want(denied(ErrBadHeader)),
		requestCase{name: "every entry trusted is denied", header: XFF, remoteAddr: lb, headers: xff("10.1.2.3, 10.1.2.4")}.want(denied(ErrAllTrusted)),
		requestCase{name: "trusted peer without the header is denied", header: XFF, remoteAddr: lb}.want(denied(ErrNoHeader)),
		requestCase{name: "underscore variant X_Forwarded_For is ignored", header: XFF, remoteAddr: lb, headers: map[string][]string{"X_Forwarded_For": {smile}}}.want(denied(ErrNoHeader)),
		requestCase{name: "other forwarding headers are never a fall-back", header: XFF, remoteAddr: lb, headers: map[string][]string{"X-Real-Ip": {smile}, "Forwarded": {"for=" + smile}}}.want(denied(ErrNoHeader)),
		requestCase{name: "other forwarding headers do not override the configured one", header: XFF, remoteAddr: lb, headers: map[string][]string{"X-Forwarded-For": {evil}, "X-Real-Ip": {smile}}}.want(notAllowed(evil)),

		// Entry forms.
		requestCase{name: "ip:port entry is the client", header: XFF, remoteAddr: lb, headers: xff(smile + ":4711")}.want(admitted(smile, "production")),
		requestCase{name: "[v6]:port entry is the client", header: XFF, remoteAddr: lb, headers: xff("[2001:db8:1::5]:4711")}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "[v6] entry is the client", header: XFF, remoteAddr: lb, headers: xff("[2001:db8:1::5]")}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "bare v6 entry is the client", header: XFF, remoteAddr: lb, headers: xff("2001:db8:1::5")}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "unmatched opening bracket is denied", header: XFF, remoteAddr: lb, headers: xff("[2001:db8:1::5")}.want(denied(ErrBadHeader)),
		requestCase{name: "unmatched closing bracket is denied", header: XFF, remoteAddr: lb, headers: xff("2001:db8:1::5]")}.want(denied(ErrBadHeader)),
		requestCase{name: "IPv4 in brackets is denied", header: XFF, remoteAddr: lb, headers: xff("[" + smile + "]")}.want(denied(ErrBadHeader)),
		requestCase{name: "empty port is denied", header: XFF, remoteAddr: lb, headers: xff(smile + ":")}.want(denied(ErrBadHeader)),
		requestCase{name: "port above 65535 is denied", header: XFF, remoteAddr: lb, headers: xff(smile + ":65536")}.want(denied(ErrBadHeader)),
		requestCase{name: "zone is dropped from an IPv6 entry", header: XFF, remoteAddr: lb, headers: xff("2001:db8:1::5%eth0")}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "URL-encoded zone %25 is dropped too", header: XFF, remoteAddr: lb, headers: xff("[2001:db8:1::5%25eth0]:80")}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "zoned trusted entry is skipped", header: XFF, remoteAddr: lb, headers: xff(smile + ", fe80::1%eth0")}.want(admitted(smile, "production")),
		requestCase{name: "empty zone is denied", header: XFF, remoteAddr: lb, headers: xff("2001:db8:1::5%")}.want(denied(ErrBadHeader)),
		requestCase{name: "zone with a bracket is denied", header: XFF, remoteAddr: lb, headers: xff("[2001:db8:1::5%]]")}.want(denied(ErrBadHeader)),
		requestCase{name: "zone with a space is denied", header: XFF, remoteAddr: lb, headers: xff("2001:db8:1::5%eth 0")}.want(denied(ErrBadHeader)),
		requestCase{name: "zone on IPv4 is denied", header: XFF, remoteAddr: lb, headers: xff(smile + "%eth0")}.want(denied(ErrBadHeader)),
		requestCase{name: "v4-mapped entry is the unmapped client", header: XFF, remoteAddr: lb, headers: xff("::ffff:" + smile)}.want(admitted(smile, "production")),
		requestCase{name: "v4-mapped trusted entry is skipped", header: XFF, remoteAddr: lb, headers: xff(smile + ", [::ffff:10.1.2.3]:80")}.want(admitted(smile, "production")),
		requestCase{name: "v4-mapped trusted prefix in the config covers IPv4", header: XFF, remoteAddr: lb, headers: xff(smile),
			config: func(c *Config) { c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("::ffff:10.0.0.0/104")} }}.want(admitted(smile, "production")),

		// Garbage.
		requestCase{name: "unknown is denied", header: XFF, remoteAddr: lb, headers: xff("unknown")}.want(denied(ErrBadHeader)),
		requestCase{name: "obfuscated identifier is denied", header: XFF, remoteAddr: lb, headers: xff("_hidden")}.want(denied(ErrBadHeader)),
		requestCase{name: "hostname is denied", header: XFF, remoteAddr: lb, headers: xff("callbacks.smileidentity.com")}.want(denied(ErrBadHeader)),
		requestCase{name: "short IPv4 127.1 is denied", header: XFF, remoteAddr: lb, headers: xff("127.1")}.want(denied(ErrBadHeader)),
		requestCase{name: "hexadecimal IPv4 is denied", header: XFF, remoteAddr: lb, headers: xff("0x7f.0.0.1")}.want(denied(ErrBadHeader)),
		requestCase{name: "octal-looking IPv4 is denied", header: XFF, remoteAddr: lb, headers: xff("010.0.0.1")}.want(denied(ErrBadHeader)),
		requestCase{name: "unspecified IPv4 is denied", header: XFF, remoteAddr: lb, headers: xff("0.0.0.0")}.want(denied(ErrBadHeader)),
		requestCase{name: "unspecified IPv6 is denied", header: XFF, remoteAddr: lb, headers: xff("::")}.want(denied(ErrBadHeader)),
		requestCase{name: "five-part IPv4 is denied", header: XFF, remoteAddr: lb, headers: xff("52.213.46.74.1")}.want(denied(ErrBadHeader)),
		requestCase{name: "quoted entry is denied", header: XFF, remoteAddr: lb, headers: xff(`"` + smile + `"`)}.want(denied(ErrBadHeader)),
		requestCase{name: "NUL byte is denied", header: XFF, remoteAddr: lb, headers: xff(smile + "\x00")}.want(denied(ErrBadHeader)),
		requestCase{name: "CR LF inside the value is denied", header: XFF, remoteAddr: lb, headers: xff(smile + "\r\nX-Evil: 1")}.want(denied(ErrBadHeader)),
		requestCase{name: "fullwidth Unicode digits are denied", header: XFF, remoteAddr: lb, headers: xff("５２.213.46.74")}.want(denied(ErrBadHeader)),
		requestCase{name: "Arabic-Indic digits are denied", header: XFF, remoteAddr: lb, headers: xff("٥٢.٢١٣.٤٦.٧٤")}.want(denied(ErrBadHeader)),
		requestCase{name: "no-break space is not whitespace", header: XFF, remoteAddr: lb, headers: xff("\u00a0" + smile)}.want(denied(ErrBadHeader)),
		requestCase{name: "one-megabyte single entry is denied", header: XFF, remoteAddr: lb, headers: xff(strings.Repeat("1", 1<<20))}.want(denied(ErrBadHeader)),

		// Length.
		requestCase{name: "one-megabyte header is too many hops", header: XFF, remoteAddr: lb, headers: xff(oneMegabyte)}.want(denied(ErrTooManyHops)),
		requestCase{name: "10,000 entries are too many hops", header: XFF, remoteAddr: lb, headers: xff(tenThousand)}.want(denied(ErrTooManyHops)),
		requestCase{name: "exactly MaxHops entries are read", header: XFF, remoteAddr: lb, headers: xff(smile, "10.1.1.1", "10.1.2.3"),
			config: func(c *Config) { c.MaxHops = 3 }}.want(admitted(smile, "production")),
		requestCase{name: "MaxHops plus one entries are denied, wherever the client is", header: XFF, remoteAddr: lb, headers: xff(evil+", "+smile, "10.1.1.1", "10.1.2.3"),
			config: func(c *Config) { c.MaxHops = 3 }}.want(denied(ErrTooManyHops)),
		requestCase{name: "default MaxHops admits ten entries", header: XFF, remoteAddr: lb, headers: xff(strings.Repeat(evil+",", 9) + smile)}.want(admitted(smile, "production")),
		requestCase{name: "default MaxHops refuses eleven entries", header: XFF, remoteAddr: lb, headers: xff(strings.Repeat(evil+",", 10) + smile)}.want(denied(ErrTooManyHops)),

		// Prefix boundaries.
		requestCase{name: "first address of a /24 is admitted", header: XFF, remoteAddr: lb, headers: xff("198.51.100.0")}.want(admitted("198.51.100.0", "docs")),
		requestCase{name: "last address of a /24 is admitted", header: XFF, remoteAddr: lb, headers: xff("198.51.100.255")}.want(admitted("198.51.100.255", "docs")),
		requestCase{name: "address after a /24 is not allowed", header: XFF, remoteAddr: lb, headers: xff("198.51.101.0")}.want(notAllowed("198.51.101.0")),
		requestCase{name: "address before a /24 is not allowed", header: XFF, remoteAddr: lb, headers: xff("198.51.99.255")}.want(notAllowed("198.51.99.255")),
		requestCase{name: "neighbour of a /32 is not allowed", header: XFF, remoteAddr: lb, headers: xff("52.213.46.75")}.want(notAllowed("52.213.46.75")),
		requestCase{name: "/128 admits its address", header: XFF, remoteAddr: lb, headers: xff("2001:db8:2::1")}.want(admitted("2001:db8:2::1", "docs")),
		requestCase{name: "neighbour of a /128 is not allowed", header: XFF, remoteAddr: lb, headers: xff("2001:db8:2::2")}.want(notAllowed("2001:db8:2::2")),
		requestCase{name: "/0 admits any IPv4 address", header: XFF, remoteAddr: lb, headers: xff("203.0.113.9"), config: allowAnyIPv4}.want(admitted("203.0.113.9", "anyone")),
		requestCase{name: "IPv4 /0 does not admit IPv6", header: XFF, remoteAddr: lb, headers: xff("2001:db8:3::1"), config: allowAnyIPv4}.want(notAllowed("2001:db8:3::1")),

		// Single-address headers.
		requestCase{name: "X-Real-IP behind trusted proxy is the client", header: XRealIP, remoteAddr: lb, headers: map[string][]string{"X-Real-Ip": {smile}}}.want(admitted(smile, "production")),
		requestCase{name: "last X-Real-IP line wins", header: XRealIP, remoteAddr: lb, headers: map[string][]string{"X-Real-Ip": {smile, evil}}}.want(notAllowed(evil)),
		requestCase{name: "earlier X-Real-IP line is ignored", header: XRealIP, remoteAddr: lb, headers: map[string][]string{"X-Real-Ip": {evil, smile}}}.want(admitted(smile, "production")),
		requestCase{name: "list in a single-address header is denied", header: XRealIP, remoteAddr: lb, headers: map[string][]string{"X-Real-Ip": {smile + ", 10.1.2.3"}}}.want(denied(ErrBadHeader)),
		requestCase{name: "trusted address in a single-address header is denied", header: XRealIP, remoteAddr: lb, headers: map[string][]string{"X-Real-Ip": {"10.1.2.3"}}}.want(denied(ErrAllTrusted)),
		requestCase{name: "single-address header name is canonicalised once", header: "cf-connecting-ip", remoteAddr: lb, headers: map[string][]string{"Cf-Connecting-Ip": {"[2001:db8:1::5]:443"}}}.want(admitted("2001:db8:1::5", "docs")),
		requestCase{name: "no header configured: the peer is the client and headers are ignored", header: "", remoteAddr: lb, headers: xff(smile),
			config: func(c *Config) { c.TrustedProxies = nil }}.want(notAllowed("10.0.0.7")),
	}
	require.GreaterOrEqual(t, len(tests), 40)
	runRequestCases(t, tests)
}

// setEnvironment is the Environment of the built-in set named name.
func setEnvironment(name string) signer.Environment {
	switch name {
	case SmileIDProduction.Name:
		return SmileIDProduction.Environment
	case SmileIDSandbox.Name:
		return SmileIDSandbox.Environment
	}
	return ""
}
