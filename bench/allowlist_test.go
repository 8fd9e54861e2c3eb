package bench

import (
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/labstack/echo/v4"
	"github.com/realclientip/realclientip-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
)

// The client IP input of every contender: Smile ID's production address
// 52.213.46.74 behind two proxies of 10.0.0.0/8 (the peer and 10.1.2.3),
// with an address the client wrote itself on the left.
const (
	clientIPPeer   = "10.0.0.7:43122"
	clientIPHeader = "6.6.6.6, 52.213.46.74, 10.1.2.3"
	clientIPWant   = "52.213.46.74"
)

var trustedProxies = netip.MustParsePrefix("10.0.0.0/8")

// smileIDAddresses are the 8 addresses every contender must admit:
// Smile ID's production and sandbox callback addresses.
var smileIDAddresses = append(append([]netip.Prefix(nil),
	allowlist.SmileIDProduction.Prefixes...), allowlist.SmileIDSandbox.Prefixes...)

// allowed is the membership check added to the libraries that only find
// the client IP: parse it, then a netip.Prefix.Contains loop over the 8
// addresses, as a careful user writes it.
func allowed(ip string) bool {
	addr, err := netip.ParseAddr(ip)
	return err == nil && allowedAddr(addr)
}

func allowedAddr(addr netip.Addr) bool {
	addr = addr.Unmap().WithZone("")
	for _, p := range smileIDAddresses {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func clientIPRequest() *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/smileid/callback", http.NoBody)
	r.RemoteAddr = clientIPPeer
	r.Header.Set("X-Forwarded-For", clientIPHeader)
	return r
}

// clientIPCheck is one contender: allow decides whether r comes from an
// allowed client, as the benchmark measures it; clientIP says which client
// IP it found, for TestClientIPContendersAgree.
type clientIPCheck struct {
	allow    func(r *http.Request) bool
	clientIP func(r *http.Request) string
}

// withAllowed makes a contender of a library that only finds the client IP.
func withAllowed(clientIP func(r *http.Request) string) clientIPCheck {
	return clientIPCheck{allow: func(r *http.Request) bool { return allowed(clientIP(r)) }, clientIP: clientIP}
}

func smileguardCheck(tb testing.TB) clientIPCheck {
	al, err := allowlist.New(allowlist.Config{
		Allow:          []allowlist.Set{allowlist.SmileIDProduction, allowlist.SmileIDSandbox},
		TrustedProxies: []netip.Prefix{trustedProxies},
		Header:         "X-Forwarded-For",
	})
	require.NoError(tb, err)
	return clientIPCheck{
		allow: func(r *http.Request) bool {
			_, err := al.Check(r)
			return err == nil
		},
		clientIP: func(r *http.Request) string {
			d, _ := al.Check(r)
			return d.ClientIP.String()
		},
	}
}

func realclientipCheck(tb testing.TB) clientIPCheck {
	ranges, err := realclientip.AddressesAndRangesToIPNets(trustedProxies.String())
	require.NoError(tb, err)
	strategy, err := realclientip.NewRightmostTrustedRangeStrategy("X-Forwarded-For", ranges)
	require.NoError(tb, err)
	return withAllowed(func(r *http.Request) string { return strategy.ClientIP(r.Header, r.RemoteAddr) })
}

func echoCheck(tb testing.TB) clientIPCheck {
	_, proxies, err := net.ParseCIDR(trustedProxies.String())
	require.NoError(tb, err)
	// Echo trusts loopback, link-local and private ranges by default;
	// trust exactly the proxies the others trust.
	return withAllowed(echo.ExtractIPFromXFFHeader(echo.TrustLoopback(false), echo.TrustLinkLocal(false),
		echo.TrustPrivateNet(false), echo.TrustIPRange(proxies)))
}

func ginCheck(tb testing.TB) clientIPCheck {
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	require.NoError(tb, engine.SetTrustedProxies([]string{trustedProxies.String()}))
	engine.ForwardedByClientIP = true
	engine.RemoteIPHeaders = []string{"X-Forwarded-For"}
	c := gin.CreateTestContextOnly(httptest.NewRecorder(), engine)
	return withAllowed(func(r *http.Request) string {
		c.Request = r
		return c.ClientIP()
	})
}

var clientIPContenders = []struct {
	name string
	new  func(testing.TB) clientIPCheck
	// spoofable: the contender admits a request from an untrusted peer
	// whose own X-Forwarded-For names a Smile ID address.
	// RightmostTrustedRangeStrategy reads the header alone and never looks
	// at the peer: it is meant for servers that only the proxies can reach.
	spoofable bool
}{
	{"smileguard", smileguardCheck, false},
	{"realclientip-go", realclientipCheck, true},
	{"echo", echoCheck, false},
	{"gin", ginCheck, false},
}

// TestClientIPContendersAgree makes sure every contender is measured on the
// path that admits the request, and finds the same client. It also records
// which contenders a spoofed header fools, for the README's footnote.
func TestClientIPContendersAgree(t *testing.T) {
	for _, c := range clientIPContenders {
		t.Run(c.name, func(t *testing.T) {
			check := c.new(t)
			assert.True(t, check.allow(clientIPRequest()))
			assert.Equal(t, clientIPWant, check.clientIP(clientIPRequest()))

			spoofed := clientIPRequest()
			spoofed.RemoteAddr = "6.6.6.6:43122"
			spoofed.Header.Set("X-Forwarded-For", clientIPWant)
			assert.Equal(t, c.spoofable, check.allow(spoofed), "spoofed header from an untrusted peer admitted")
		})
	}
}

var okSink bool

// BenchmarkClientIP finds the client IP through two trusted proxies and
// checks it against Smile ID's 8 addresses. The baseline checks the peer
// address of a request without proxies: no header to walk.
func BenchmarkClientIP(b *testing.B) {
	run := func(b *testing.B, r *http.Request, allow func(*http.Request) bool) {
		if !allow(r) {
			b.Fatal("request refused")
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := startCPU()
		for i := 0; i < b.N; i++ {
			okSink = allow(r)
		}
		b.StopTimer()
		cpu.report(b)
	}
	b.Run("baseline-peer-only", func(b *testing.B) {
		r := clientIPRequest()
		r.RemoteAddr = clientIPWant + ":43122"
		run(b, r, func(r *http.Request) bool {
			ap, err := netip.ParseAddrPort(r.RemoteAddr)
			return err == nil && allowedAddr(ap.Addr())
		})
	})
	for _, c := range clientIPContenders {
		b.Run(c.name, func(b *testing.B) { run(b, clientIPRequest(), c.new(b).allow) })
	}
}
