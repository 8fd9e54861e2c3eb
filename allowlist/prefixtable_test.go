package allowlist

import (
	"math/rand"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPrefixTableBoundaries(t *testing.T) {
	tests := []struct {
		name     string
		prefixes []string
		in, out  []string
	}{
		{"/24: first and last in, neighbours out", []string{"192.0.2.0/24"},
			[]string{"192.0.2.0", "192.0.2.255", "192.0.2.128"}, []string{"192.0.1.255", "192.0.3.0"}},
		{"/32: the address only", []string{"52.213.46.74/32"},
			[]string{"52.213.46.74"}, []string{"52.213.46.73", "52.213.46.75"}},
		{"/0: every IPv4 address and no IPv6", []string{"0.0.0.0/0"},
			[]string{"0.0.0.1", "255.255.255.255", "52.213.46.74"}, []string{"::1", "2001:db8::1"}},
		{"/128: the address only", []string{"2001:db8::1/128"},
			[]string{"2001:db8::1"}, []string{"2001:db8::", "2001:db8::2"}},
		{"::/0: every IPv6 address and no IPv4", []string{"::/0"},
			[]string{"::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::ffff:1"}, []string{"0.0.0.1", "255.255.255.255"}},
		{"/64 across the 64-bit halves", []string{"2001:db8:0:1::/64"},
			[]string{"2001:db8:0:1::", "2001:db8:0:1:ffff:ffff:ffff:ffff"}, []string{"2001:db8:0:0:ffff:ffff:ffff:ffff", "2001:db8:0:2::"}},
		{"/63 carries into the high half", []string{"2001:db8:0:2::/63"},
			[]string{"2001:db8:0:2::", "2001:db8:0:3:ffff:ffff:ffff:ffff"}, []string{"2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db8:0:4::"}},
		{"touching prefixes merge without gaps", []string{"10.0.1.0/24", "10.0.0.0/24", "10.0.2.0/23"},
			[]string{"10.0.0.0", "10.0.0.255", "10.0.1.0", "10.0.3.255"}, []string{"9.255.255.255", "10.0.4.0"}},
		{"top of the address space", []string{"255.255.255.0/24", "ffff::/16"},
			[]string{"255.255.255.255", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}, []string{"255.255.254.255", "fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var table prefixTable
			table.add(0, mustPrefixes(t, tt.prefixes...))
			for _, a := range tt.in {
				assert.True(t, table.contains(netip.MustParseAddr(a)), a)
			}
			for _, a := range tt.out {
				assert.False(t, table.contains(netip.MustParseAddr(a)), a)
			}
		})
	}
}

func TestPrefixTableFirstLabelWins(t *testing.T) {
	var narrowFirst prefixTable
	narrowFirst.add(0, mustPrefixes(t, "10.1.0.0/16"))
	narrowFirst.add(1, mustPrefixes(t, "10.0.0.0/8"))
	for addr, want := range map[string]int{"10.0.0.0": 1, "10.0.255.255": 1, "10.1.0.0": 0, "10.1.255.255": 0, "10.2.0.0": 1, "10.255.255.255": 1} {
		label, ok := narrowFirst.lookup(netip.MustParseAddr(addr))
		require.True(t, ok, addr)
		assert.Equal(t, want, label, addr)
	}

	var wideFirst prefixTable
	wideFirst.add(0, mustPrefixes(t, "10.0.0.0/8"))
	wideFirst.add(1, mustPrefixes(t, "10.1.0.0/16"))
	label, ok := wideFirst.lookup(netip.MustParseAddr("10.1.2.3"))
	require.True(t, ok)
	assert.Equal(t, 0, label)
	assert.Len(t, wideFirst.v4, 1, "the second label adds nothing")
}

// TestPrefixTableAgreesWithLinearScan compares the table with the obvious
// reference, the first label whose prefixes contain the address, on
// random overlapping prefixes crowded into a small part of the space.
func TestPrefixTableAgreesWithLinearScan(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for round := range 200 {
		var table prefixTable
		labels := make([][]netip.Prefix, 1+rng.Intn(5))
		for label := range labels {
			for range 1 + rng.Intn(8) {
				labels[label] = append(labels[label], randomPrefix(rng))
			}
			table.add(label, labels[label])
		}
		var probes []netip.Addr
		for _, prefixes := range labels {
			for _, p := range prefixes {
				first, last := p.Masked().Addr(), lastAddr(p)
				probes = append(probes, first, last, first.Prev(), last.Next())
			}
		}
		for range 50 {
			probes = append(probes, randomPrefix(rng).Addr())
		}
		for _, a := range probes {
			if !a.IsValid() {
				continue
			}
			wantLabel, wantOK := linearLookup(labels, a)
			label, ok := table.lookup(a)
			require.Equal(t, wantOK, ok, "round %d, address %s, prefixes %v", round, a, labels)
			if ok {
				require.Equal(t, wantLabel, label, "round %d, address %s, prefixes %v", round, a, labels)
			}
		}
	}
}

func linearLookup(labels [][]netip.Prefix, a netip.Addr) (int, bool) {
	for label, prefixes := range labels {
		for _, p := range prefixes {
			if p.Contains(a) {
				return label, true
			}
		}
	}
	return 0, false
}

// randomPrefix returns a masked prefix near 10.0.0.0 or 2001:db8::, so
// that random prefixes overlap often.
func randomPrefix(rng *rand.Rand) netip.Prefix {
	if rng.Intn(2) == 0 {
		a := netip.AddrFrom4([4]byte{10, 0, byte(rng.Intn(4)), byte(rng.Intn(256))})
		return netip.PrefixFrom(a, 20+rng.Intn(13)).Masked()
	}
	var b [16]byte
	b[0], b[1], b[2], b[3] = 0x20, 0x01, 0x0d, 0xb8
	b[7], b[8], b[15] = byte(rng.Intn(2)), byte(rng.Intn(256)), byte(rng.Intn(256))
	return netip.PrefixFrom(netip.AddrFrom16(b), 56+rng.Intn(73)).Masked()
}

// lastAddr returns the last address of p.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	a, _ := netip.AddrFromSlice(b)
	return a
}
