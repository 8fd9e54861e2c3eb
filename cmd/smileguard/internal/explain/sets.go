package explain

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

func contains(s allowlist.Set, ip netip.Addr) bool {
	for _, p := range s.Prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

func containsSet(sets []allowlist.Set, name string) bool {
	for _, s := range sets {
		if s.Name == name {
			return true
		}
	}
	return false
}

func containsFormat(formats []middleware.CallbackFormat, f middleware.CallbackFormat) bool {
	for _, g := range formats {
		if g == f {
			return true
		}
	}
	return false
}

// usableSets are the sets whose environment has a key usable at now: the
// others would keep a Guard from starting.
func usableSets(sets []allowlist.Set, keys []signer.Key, now time.Time) []allowlist.Set {
	var out []allowlist.Set
	for _, s := range sets {
		for _, k := range keys {
			if (s.Environment == "" || k.Environment == s.Environment) && k.UsableAt(now) {
				out = append(out, s)
				break
			}
		}
	}
	return out
}

func describeSets(sets []allowlist.Set) string {
	if len(sets) == 0 {
		return "none: no environment has keys"
	}
	parts := make([]string, len(sets))
	for i, s := range sets {
		parts[i] = fmt.Sprintf("%s: %d prefixes", s.Name, len(s.Prefixes))
	}
	return strings.Join(parts, "; ")
}

// stamp writes an instant for a report.
func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
