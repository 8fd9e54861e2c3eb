package allowlist

import (
	"net/netip"
	"strings"
	"testing"
)

// TestParseIPv4PortAgreesWithNetip checks the fast IPv4 path against
// netip on every string of up to 8 bytes over "0125.:" and on awkward
// forms: wherever the fast path answers, netip must give the same address.
func TestParseIPv4PortAgreesWithNetip(t *testing.T) {
	check := func(s string) {
		got, ok := parseIPv4Port(s)
		host, port, hasPort := strings.Cut(s, ":")
		want, err := netip.ParseAddr(host)
		wantOK := err == nil && want.Is4() && (!hasPort || validPort(port))
		if ok != wantOK || ok && got != want {
			t.Fatalf("parseIPv4Port(%q) = %v, %v; netip: %v, %v", s, got, ok, want, wantOK)
		}
	}
	for _, s := range []string{"0.0.0.0", "255.255.255.255", "256.0.0.1", "1.2.3.04", "1.2.3", "1.2.3.4.", ".1.2.3.4",
		"1.2.3.4:", "1.2.3.4:0", "1.2.3.4:65535", "1.2.3.4:65536", "1.2.3.4:+1", "1.2.3.4::1", "1.2.3.4%x", "١.2.3.4", "1.2.3.4 "} {
		check(s)
	}
	const alphabet = "0125.:"
	var walk func(prefix string)
	walk = func(prefix string) {
		check(prefix)
		if len(prefix) == 8 {
			return
		}
		for i := range len(alphabet) {
			walk(prefix + alphabet[i:i+1])
		}
	}
	walk("")
}
