package refusallog

import (
	"net/netip"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func TestFirstPerAddressPerWindowInFull(t *testing.T) {
	s := New(time.Minute, 100)
	a := netip.MustParseAddr("198.51.100.7")
	b := netip.MustParseAddr("198.51.100.8")
	steps := []struct {
		addr netip.Addr
		at   time.Duration
		full bool
		due  []Summary
	}{
		{a, 0, true, nil},
		{a, time.Second, false, nil},
		{a, 2 * time.Second, false, nil},
		{b, 3 * time.Second, true, nil},
		{a, 59 * time.Second, false, nil},
		{a, time.Minute, true, []Summary{{Addr: a, Suppressed: 3, Since: t0}}},
		{b, time.Minute + 3*time.Second, true, nil}, // b's window had nothing suppressed
	}
	for i, st := range steps {
		full, due := s.Admit(st.addr, t0.Add(st.at))
		if full != st.full {
			t.Fatalf("step %d: full %v, want %v", i, full, st.full)
		}
		got := due.All()
		if len(got) != len(st.due) {
			t.Fatalf("step %d: due %v, want %v", i, got, st.due)
		}
		for j := range got {
			if got[j] != st.due[j] {
				t.Fatalf("step %d: due %v, want %v", i, got, st.due)
			}
		}
	}
}

func TestBudgetBoundsFullRecordsOverAllAddresses(t *testing.T) {
	s := New(time.Minute, 10)
	full := 0
	for i := 0; i < 1000; i++ {
		addr := netip.AddrFrom4([4]byte{203, 0, byte(i >> 8), byte(i)})
		if ok, _ := s.Admit(addr, t0.Add(time.Duration(i)*time.Millisecond)); ok {
			full++
		}
	}
	if full != 10 {
		t.Fatalf("%d full records, want the budget of 10", full)
	}
	_, due := s.Admit(netip.MustParseAddr("192.0.2.1"), t0.Add(time.Minute+time.Second))
	var overBudget int
	for _, sum := range due.All() {
		if !sum.Addr.IsValid() {
			overBudget = sum.Suppressed
		}
	}
	if overBudget != 990 {
		t.Fatalf("over-budget summary %d, want 990 (due %v)", overBudget, due.All())
	}
}

func TestIPv6CountsPerSlash64AndMappedIsIPv4(t *testing.T) {
	s := New(time.Minute, 100)
	if full, _ := s.Admit(netip.MustParseAddr("2001:db8:1:2::1"), t0); !full {
		t.Fatal("first IPv6 refusal not logged")
	}
	if full, _ := s.Admit(netip.MustParseAddr("2001:db8:1:2:ffff::9"), t0); full {
		t.Fatal("another address of the same /64 logged in full")
	}
	if full, _ := s.Admit(netip.MustParseAddr("192.0.2.1"), t0); !full {
		t.Fatal("IPv4 not logged")
	}
	if full, _ := s.Admit(netip.MustParseAddr("::ffff:192.0.2.1"), t0); full {
		t.Fatal("the IPv4-mapped form counted apart")
	}
}

func TestTrackedAddressesAreBounded(t *testing.T) {
	s := New(time.Hour, 1<<20)
	for i := 0; i < 3*maxTracked; i++ {
		s.Admit(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t0)
	}
	if n := len(s.tracked); n > maxTracked {
		t.Fatalf("%d addresses tracked, bound %d", n, maxTracked)
	}
}

func TestClockSteppingBackStartsAWindow(t *testing.T) {
	s := New(time.Minute, 100)
	a := netip.MustParseAddr("198.51.100.7")
	s.Admit(a, t0)
	if full, _ := s.Admit(a, t0.Add(-time.Hour)); !full {
		t.Fatal("a clock stepped back an hour kept the window open")
	}
}

func TestJoin(t *testing.T) {
	full := strings.Repeat("x", MaxLoggedBytes)
	for _, tt := range []struct {
		values []string
		want   string
	}{
		{nil, ""},
		{[]string{"a", "b"}, "a, b"},
		{[]string{full}, full},
		{[]string{full + "y"}, full + "..."},
		{[]string{full, "y"}, full + "..."},
		{[]string{"a", full, "b"}, "a, " + full[:MaxLoggedBytes-3] + "..."},
	} {
		if got := Join(tt.values); got != tt.want {
			t.Errorf("Join(%d values) = %q, want %q", len(tt.values), got, tt.want)
		}
	}
}
