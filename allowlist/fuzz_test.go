package allowlist

import (
	"net/http"
	"net/netip"
	"strings"
	"testing"
)

// The configuration fuzzed: the trusted proxies are given to New partly in
// v4-mapped form; fuzzTrusted is the same list as the reference sees it.
var (
	fuzzConfigTrusted = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("::ffff:192.168.0.0/112"),
		netip.MustParsePrefix("52.36.32.43/32"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("fe80::/10"),
	}
	fuzzTrusted = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("52.36.32.43/32"),
		netip.MustParsePrefix("fd00::/8"),
		netip.MustParsePrefix("fe80::/10"),
	}
	fuzzHeaders = []string{"X-Forwarded-For", "Forwarded", "X-Real-IP", ""}
)

const fuzzMaxHops = 5

// FuzzClientIP resolves the client IP of a request from a peer and a
// header (one line per "\n" in lines) and checks it against three oracles:
// the result is never a trusted proxy unless it is the untrusted peer, it
// is the peer or it appears in the header, and it is what a plain
// reference walk finds.
//
// testdata/fuzz/FuzzClientIP holds the inputs that once failed: a zone was
// accepted whatever its characters, so "[::1%]]" had the zone "]"
// (66898875351e53c2, the first finding, kept by the commit that added this
// target) and "[::1%Yt,\"]:0" resolved to ::1 (caab265dbf583d5e, which
// fails against the code before validZone).
func FuzzClientIP(f *testing.F) {
	// header picks the configuration: 0 X-Forwarded-For, 1 Forwarded,
	// 2 X-Real-IP, 3 none (the peer alone); fuzzMaxHops is 5.
	for _, seed := range []struct {
		peer   string
		header byte
		lines  string
	}{
		// The peer alone: a Smile ID address, a bare address without a
		// port, and RemoteAddr values that are no address.
		{"52.213.46.74:443", 3, ""},
		{"52.213.46.74", 3, "6.6.6.6"},
		{"@", 0, "52.213.46.74"},
		{"", 1, ""},
		// An untrusted peer is the client whatever the header says.
		{"6.6.6.6:1", 0, "52.213.46.74"},
		// X-Forwarded-For behind a trusted proxy: right to left, the
		// first untrusted entry is the client, across several lines.
		{"10.0.0.7:1", 0, "6.6.6.6, 52.213.46.74, 10.1.2.3"},
		{"10.0.0.7:1", 0, "52.213.46.74\n10.1.2.3, 192.168.1.1"},
		// v4-mapped peers and entries, bracketed IPv6 with a port, tabs.
		{"[::ffff:10.0.0.7]:1", 0, " [2001:db8::1]:80 ,\t::ffff:52.36.32.43"},
		// Zones (the first finding was a zone of "]"): good ones on a
		// trusted peer and entries, the URL-encoded %25 form; then the
		// forms netip.ParseAddr refuses: 127.1, hex, octal.
		{"[fe80::1%eth0]:1", 0, "fe80::2%25eth0, 127.1, 0x7f.0.0.1, 010.0.0.1"},
		{"10.0.0.7:1", 0, "[fe80::1%en-0._~]:8080, 2001:db8::1%"},
		// Entries that are no address, and the unspecified addresses.
		{"10.0.0.7", 0, ",,unknown,_hidden,0.0.0.0,::"},
		// Ports: out of range, empty, IPv4 in brackets, a zone on IPv4.
		{"10.0.0.7:1", 0, "52.213.46.74:65536, [52.213.46.74]:1, 52.213.46.74:, 52.213.46.74%eth0"},
		// Chains: all trusted, exactly fuzzMaxHops, one over.
		{"10.0.0.7:1", 0, "10.0.0.1, 192.168.0.1, fd00::1"},
		{"10.0.0.7:1", 0, "6.6.6.6,2.2.2.2,3.3.3.3,4.4.4.4,10.0.0.1"},
		{"10.0.0.7:1", 0, "1.1.1.1,2.2.2.2,3.3.3.3,4.4.4.4,5.5.5.5,10.0.0.1"},
		// An entry over 128 bytes of whitespace and address.
		{"10.0.0.7:1", 0, strings.Repeat(" ", 120) + "52.213.46.74"},
		// Forwarded: several elements and pairs, quoted IPv6 with a
		// port, a case-insensitive "For", an obfuscated node.
		{"10.0.0.7:1", 1, `for=6.6.6.6, for="[2001:db8::1]:4711";proto=https, For=10.1.2.3;by=_lb`},
		// Forwarded quoting: an escaped quote inside, a comma inside
		// quotes, a backslash escape of a digit, an open quote.
		{"10.0.0.7:1", 1, `for="6.6.6.6\", for=10.1.2.3", for=52.213.46.74`},
		{"10.0.0.7:1", 1, `for="52.213.46.\74";;by="\"", for="[fd00::1%25x]"`},
		{"10.0.0.7:1", 1, `for="52.213.46.74`},
		// Forwarded: two for= in one element, none, unknown, a port on a
		// bare token.
		{"10.0.0.7:1", 1, `for=52.213.46.74;for=6.6.6.6`},
		{"10.0.0.7:1", 1, "proto=https\nfor=unknown, for=\"_x:80\""},
		{"10.0.0.7:1", 1, "for=52.213.46.74:80"},
		// A single-address header: the last line counts, and a peer in
		// the v4-mapped trusted range.
		{"10.0.0.7:1", 2, "52.213.46.74\n6.6.6.6"},
		{"192.168.0.1:1", 2, "10.1.2.3"},
		// No header configured: a trusted peer is still the client.
		{"52.36.32.43:1", 3, "6.6.6.6"},
	} {
		f.Add(seed.peer, seed.header, seed.lines)
	}

	snapshots := make([]*snapshot, len(fuzzHeaders))
	for i, header := range fuzzHeaders {
		cfg := Config{Allow: []Set{SmileIDProduction}, TrustedProxies: fuzzConfigTrusted, Header: header, MaxHops: fuzzMaxHops}
		if header == "" {
			cfg.TrustedProxies = nil
		}
		var err error
		if snapshots[i], err = compile(cfg); err != nil {
			f.Fatal(err)
		}
	}

	f.Fuzz(func(t *testing.T, peer string, header byte, lines string) {
		s := snapshots[int(header)%len(snapshots)]
		r := &http.Request{RemoteAddr: peer, Header: http.Header{}}
		var values []string
		if s.header != "" && lines != "" {
			values = strings.Split(lines, "\n")
			r.Header[s.header] = values
		}

		got, err := s.clientIP(r)
		want, wantOK := referenceClientIP(peer, s.kind, values)
		if (err == nil) != wantOK || got != want {
			t.Fatalf("clientIP = %v, %v; the reference walk finds %v, %v", got, err, want, wantOK)
		}
		if err != nil {
			if got.IsValid() {
				t.Fatalf("denial %v with an address %v", err, got)
			}
			return
		}

		if got != got.Unmap() || got.Zone() != "" || got.IsUnspecified() {
			t.Fatalf("client %v is not normalised", got)
		}
		peerAddr, _ := referenceParse(peer, true)
		switch {
		case s.kind == headerNone && got != peerAddr:
			t.Fatalf("client %v is not the peer %v, yet no header is configured", got, peerAddr)
		case s.kind != headerNone && trusted(got):
			// The peer is the client only if untrusted; header entries
			// only if untrusted: a trusted address is never the client.
			t.Fatalf("client %v is a trusted proxy", got)
		case got != peerAddr && !strings.Contains(lines, `\`) && !appearsIn(got, lines):
			t.Fatalf("client %v is neither the peer nor in the header", got)
		}
	})
}

// trusted reports whether a is in fuzzTrusted, the plain way.
func trusted(a netip.Addr) bool {
	for _, p := range fuzzTrusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// appearsIn reports whether some substring of s, of at most 45 bytes (the
// longest IPv6 text), is the address a, possibly v4-mapped.
func appearsIn(a netip.Addr, s string) bool {
	for i := range len(s) {
		for j := i + 1; j <= len(s) && j-i <= 45; j++ {
			if b, err := netip.ParseAddr(s[i:j]); err == nil && b.Unmap() == a {
				return true
			}
		}
	}
	return false
}
