package signer

import (
	"net/http"
	"net/netip"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHostPattern(t *testing.T) {
	good := []struct {
		entry string
		want  hostPattern
	}{
		{"api.smileidentity.com", hostPattern{name: "api.smileidentity.com", exact: "api.smileidentity.com"}},
		{"API.SmileIdentity.COM", hostPattern{name: "api.smileidentity.com", exact: "api.smileidentity.com"}},
		{"api.smileidentity.com.", hostPattern{name: "api.smileidentity.com", exact: "api.smileidentity.com"}},
		{"api.smileidentity.com:8443", hostPattern{name: "api.smileidentity.com", port: "8443", exact: "api.smileidentity.com:8443"}},
		{"localhost:1", hostPattern{name: "localhost", port: "1", exact: "localhost:1"}},
		{"127.0.0.1:65535", hostPattern{addr: netip.MustParseAddr("127.0.0.1"), port: "65535", exact: "127.0.0.1:65535"}},
		{"[::1]", hostPattern{addr: netip.MustParseAddr("::1"), exact: "[::1]"}},
		{"[0:0::1]:443", hostPattern{addr: netip.MustParseAddr("::1"), port: "443", exact: "[::1]:443"}},
		{"[2001:db8::1]:8443", hostPattern{addr: netip.MustParseAddr("2001:db8::1"), port: "8443", exact: "[2001:db8::1]:8443"}},
	}
	for _, tt := range good {
		t.Run(tt.entry, func(t *testing.T) {
			got, reason := parseHostPattern(tt.entry)
			require.Empty(t, reason)
			assert.Equal(t, tt.want, got)
		})
	}

	bad := []struct {
		name, entry, reason string
	}{
		{"empty", "", "is empty"},
		{"URL", "https://api.smileidentity.com", "has a scheme"},
		{"path", "api.smileidentity.com/v1", "has a path"},
		{"user info", "user@api.smileidentity.com", "user info"},
		{"query", "api.smileidentity.com?x", "has a path, query"},
		{"space", "api.smileidentity.com ", "has a space"},
		{"non-ASCII name", "api.ſmileidentity.com", "punycode"},
		{"empty port", "api.smileidentity.com:", "port"},
		{"port zero", "api.smileidentity.com:0", "port"},
		{"port too big", "api.smileidentity.com:65536", "port"},
		{"port with a leading zero", "api.smileidentity.com:0443", "port"},
		{"port not a number", "api.smileidentity.com:https", "port"},
		{"bare IPv6", "::1", "brackets"},
		{"IPv4 in brackets", "[127.0.0.1]", "IPv6"},
		{"unclosed bracket", "[::1", "unclosed"},
		{"junk after bracket", "[::1]x", "after the bracket"},
		{"only a port", ":443", "no valid host name"},
		{"only a dot", ".", "no valid host name"},
		{"empty label", "api..smileidentity.com", "no valid host name"},
		{"IP with a dot", "127.0.0.1.", "ending in a dot"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, reason := parseHostPattern(tt.entry)
			assert.Contains(t, reason, tt.reason)
		})
	}
}

func TestTransportSignsOnlyItsHosts(t *testing.T) {
	tests := []struct {
		name  string
		hosts []string
		url   string
		want  bool
	}{
		{"default host of a sandbox key", nil, "https://testapi.smileidentity.com/v2/x", true},

		{"empty Hosts is the default", []string{}, "https://testapi.smileidentity.com/v2/x", true},
		{"host case does not matter", nil, "https://TestAPI.SmileIdentity.com/v2/x", true},
		{"default port written out", nil, "https://testapi.smileidentity.com:443/v2/x", true},
		{"empty port is the default", nil, "https://testapi.smileidentity.com:/v2/x", true},
		{"pinned port, another host", []string{"smile.test:8443"}, "https://smile.test:9443/v2/x", false},
		{"trailing dot", nil, "https://testapi.smileidentity.com./v2/x", true},
		{"two trailing dots", nil, "https://testapi.smileidentity.com../v2/x", false},
		{"user info does not matter", nil, "https://someone:pw@testapi.smileidentity.com/v2/x", true},
		{"look-alike suffix", nil, "https://testapi.smileidentity.com.evil.example/v2/x", false},
		{"look-alike prefix", nil, "https://eviltestapi.smileidentity.com/v2/x", false},
		{"host in the user info", nil, "https://testapi.smileidentity.com@evil.example/v2/x", false},
		{"Unicode long s is not s", nil, "https://testapi.\u017fmileidentity.com/v2/x", false},
		{"Kelvin sign is not k", []string{"k.example"}, "https://\u212a.example/", false},
		{"pinned port", []string{"smile.test:8443"}, "https://smile.test:8443/v2/x", true},
		{"pinned port, URL without it", []string{"smile.test:8443"}, "https://smile.test/v2/x", false},
		{"pinned 443 matches the default", []string{"smile.test:443"}, "https://smile.test/v2/x", true},
		{"IPv4 literal", []string{"127.0.0.1:9000"}, "https://127.0.0.1:9000/v2/x", true},
		{"IPv4 literal, other port", []string{"127.0.0.1:9000"}, "https://127.0.0.1:9001/v2/x", false},
		{"IPv4 literal with a trailing dot is a name", []string{"127.0.0.1:9000"}, "https://127.0.0.1.:9000/v2/x", false},
		{"IPv6 literal", []string{"[::1]:9000"}, "https://[::1]:9000/v2/x", true},
		{"IPv6 literal written differently", []string{"[::1]:9000"}, "https://[0:0:0:0:0:0:0:1]:9000/v2/x", true},
		{"IPv6 literal, default port", []string{"[2001:db8::1]"}, "https://[2001:db8::1]/v2/x", true},
		{"IPv4-mapped IPv6 is another address", []string{"127.0.0.1:9000"}, "https://[::ffff:127.0.0.1]:9000/v2/x", false},
		{"second entry", []string{"a.test", "b.test"}, "https://B.test/v2/x", true},
		{"Host header does not count", nil, "https://example.com/v2/x", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &stubTransport{}
			tr := &Transport{Base: stub, Key: transportKey, Hosts: tt.hosts}
			req, _ := newRequest(t, http.MethodPost, tt.url, `{"a":1}`)
			req.Host = "testapi.smileidentity.com" // where the request says it goes; the URL decides
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err)
			resp.Body.Close()
			sent := stub.Sent()
			require.Len(t, sent, 1)
			assert.Equal(t, tt.want, sent[0].Header.Get("SmileID-Request-Signature") != "")
			if !tt.want {
				assert.Equal(t, http.Header{}, sent[0].Header, "passed through untouched")
				assert.Equal(t, `{"a":1}`, string(sent[0].Body))
			}
		})
	}
}

func TestTransportRefusesSmileIDHostsItDoesNotSignFor(t *testing.T) {
	tests := []struct {
		name  string
		key   Key
		hosts []string
		url   string
		want  string
	}{
		{"a sandbox key to production", transportKey, nil, "https://api.smileidentity.com/v1/job_status", "api.smileidentity.com is the production host, and Key is a sandbox key"},
		{"a production key to the sandbox", productionKey, nil, "https://testapi.smileidentity.com/v2/x", "testapi.smileidentity.com is the sandbox host, and Key is a production key"},
		{"a production key to the sandbox, v3", productionKey, nil, "https://testapi.smileidentity.com/v3/token", "is the sandbox host"},
		{"another spelling", productionKey, nil, "https://TESTAPI.smileidentity.com./v2/x", "is the sandbox host"},
		{"another port", transportKey, nil, "https://testapi.smileidentity.com:8443/v2/x", "testapi.smileidentity.com:8443 is not one of Transport.Hosts"},
		{"plain http to the other environment", transportKey, nil, "http://api.smileidentity.com/v2/x", "is the production host"},
		{"the key's own host, left out of Hosts", transportKey, []string{"smile.test"}, "https://testapi.smileidentity.com/v2/x", "is not one of Transport.Hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &stubTransport{}
			tr := &Transport{Base: stub, Key: tt.key, Hosts: tt.hosts}
			req, body := newRequest(t, http.MethodPost, tt.url, `{"a":1}`)
			resp, err := tr.RoundTrip(req)
			assert.Nil(t, resp)
			require.ErrorIs(t, err, ErrWrongEnvironment)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, stub.Sent(), "nothing sent")
			assert.True(t, body.closed.Load())
		})
	}

	t.Run("other hosts still pass", func(t *testing.T) {
		stub := &stubTransport{}
		tr := &Transport{Base: stub, Key: productionKey}
		for _, u := range []string{"https://smileidentity.com/", "https://portal.smileidentity.com/v2/x", "https://api.smileidentity.com.evil.example/v2/x"} {
			req, _ := newRequest(t, http.MethodGet, u, "")
			resp, err := tr.RoundTrip(req)
			require.NoError(t, err, u)
			resp.Body.Close()
		}
		for _, sent := range stub.Sent() {
			assert.Equal(t, http.Header{}, sent.Header, sent.URL)
		}
	})
}

func TestTransportRefusesInsecureRequests(t *testing.T) {
	tests := []struct {
		name  string
		hosts []string
		url   string
		ok    bool
	}{
		{"plain http to Smile ID", nil, "http://testapi.smileidentity.com/v1/job_status", false},
		{"plain http on port 443", []string{"smile.test:443"}, "http://smile.test:443/v2/x", false},
		{"plain http to a pinned private address", []string{"10.0.0.5"}, "http://10.0.0.5/v2/x", false},
		{"websocket", nil, "ws://testapi.smileidentity.com/v2/x", false},
		{"secure websocket", nil, "wss://testapi.smileidentity.com/v2/x", false},
		{"upper-case scheme", nil, "HTTPS://testapi.smileidentity.com/v2/x", true}, // url.Parse lowers it
		{"plain http to localhost", []string{"localhost:8080"}, "http://localhost:8080/v2/x", true},
		{"plain http to LOCALHOST", []string{"localhost:8080"}, "http://LOCALHOST:8080/v2/x", true},
		{"plain http to localhost.", []string{"localhost:8080"}, "http://localhost.:8080/v2/x", false},
		{"plain http to 127.0.0.1", []string{"127.0.0.1:8080"}, "http://127.0.0.1:8080/v1/x", true},
		{"plain http to 127.9.9.9", []string{"127.9.9.9:8080"}, "http://127.9.9.9:8080/v1/x", true},
		{"plain http to ::1", []string{"[::1]:8080"}, "http://[::1]:8080/v2/x", true},
		{"https anywhere", []string{"10.0.0.5"}, "https://10.0.0.5/v2/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stub := &stubTransport{}
			tr := &Transport{Base: stub, Key: transportKey, Hosts: tt.hosts}
			req, body := newRequest(t, http.MethodPost, tt.url, `{"a":1}`)
			resp, err := tr.RoundTrip(req)
			if tt.ok {
				require.NoError(t, err)
				resp.Body.Close()
				require.Len(t, stub.Sent(), 1)
				assert.NotEmpty(t, stub.Sent()[0].Header.Get("SmileID-Request-Signature")+string(stub.Sent()[0].Body))
				return
			}
			assert.ErrorIs(t, err, ErrInsecureRequest)
			assert.Empty(t, stub.Sent(), "nothing sent")
			assert.True(t, body.closed.Load())
		})
	}

	t.Run("a struct-built URL with an upper-case scheme", func(t *testing.T) {
		stub := &stubTransport{}
		tr := &Transport{Base: stub, Key: transportKey}
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Scheme: "HTTPS", Host: "testapi.smileidentity.com", Path: "/v2/x"}, Header: http.Header{}}
		_, err := tr.RoundTrip(req)
		assert.ErrorIs(t, err, ErrInsecureRequest, "fails closed: net/http would not know the scheme either")
		assert.Empty(t, stub.Sent())
	})
}
