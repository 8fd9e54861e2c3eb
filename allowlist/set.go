package allowlist

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/smileguard/smileguard/signer"
)

// A Set is a named group of address prefixes that the allowlist admits,
// such as SmileIDProduction. A single address is a prefix of full length
// (/32 or /128).
//
// Build one with ParseSet, or literally with prefixes that are valid,
// masked (no host bits set) and not zoned; New refuses anything else. New
// copies the prefixes, so changing a Set afterwards does not affect an
// Allowlist built from it.
type Set struct {
	// Name identifies the set in Decision.Set and in logs, for example
	// "production", "sandbox" or "office". It must not be empty.
	Name string
	// Prefixes are the addresses of the set, IPv4 and IPv6. An IPv4-mapped
	// IPv6 prefix (::ffff:10.0.0.0/104) stands for its IPv4 form
	// (10.0.0.0/8). An IPv6 prefix never matches an IPv4 address, not even
	// ::/0.
	Prefixes []netip.Prefix
	// Environment binds the set's clients to one Smile ID environment: a
	// callback from them must be signed with a key of that environment
	// (middleware.CallbackVerifier), so that a leaked sandbox key cannot
	// admit a callback from a production address. SmileIDProduction and
	// SmileIDSandbox carry theirs; "" binds nothing (any key), for sets
	// that are not Smile ID's. It is the field, not the Name, that binds.
	Environment signer.Environment
}

// Replace returns a copy of s whose prefixes are entries, parsed as
// ParseSet parses them; Name and Environment stay. It is how a receiver
// takes Smile ID's addresses from configuration the day they change,
// without a new release:
//
//	prod, err := allowlist.SmileIDProduction.Replace(strings.Split(os.Getenv("ALLOW_PRODUCTION"), ",")...)
func (s Set) Replace(entries ...string) (Set, error) {
	parsed, err := ParseSet(s.Name, entries...)
	if err != nil {
		return Set{}, err
	}
	parsed.Environment = s.Environment
	return parsed, nil
}

// ParseSet returns a Set named name from entries, each an IP address
// ("52.213.46.74", "2001:db8::1") or a CIDR prefix ("10.0.0.0/8",
// "2001:db8::/32"). It refuses, naming the entry: an empty entry,
// surrounding spaces, a hostname, a zone ("fe80::1%eth0"), an unspecified
// address ("0.0.0.0", "::"; write 0.0.0.0/0 to mean every IPv4 address), and a
// prefix with host bits set ("10.0.0.1/8"). It also refuses an empty name
// and a set without entries. IPv4-mapped IPv6 entries are turned into IPv4.
// The errors wrap ErrInvalidConfig.
func ParseSet(name string, entries ...string) (Set, error) {
	if name == "" {
		return Set{}, configErrorf("ParseSet: empty set name")
	}
	if len(entries) == 0 {
		return Set{}, configErrorf("ParseSet %q: no entries", name)
	}
	set := Set{Name: name, Prefixes: make([]netip.Prefix, 0, len(entries))}
	for i, entry := range entries {
		p, problem := parseSetEntry(entry)
		if problem == "" {
			p, problem = normalizePrefix(p)
		}
		if problem != "" {
			return Set{}, configErrorf("ParseSet %q: entry %d %q: %s", name, i, entry, problem)
		}
		set.Prefixes = append(set.Prefixes, p)
	}
	return set, nil
}

// parseSetEntry parses one ParseSet entry, or says what is wrong with it.
func parseSetEntry(entry string) (netip.Prefix, string) {
	switch {
	case entry == "":
		return netip.Prefix{}, "empty entry"
	case strings.TrimSpace(entry) != entry:
		return netip.Prefix{}, "surrounding spaces"
	case strings.IndexByte(entry, '%') >= 0:
		return netip.Prefix{}, "zones are not allowed"
	case strings.IndexByte(entry, '/') >= 0:
		p, err := netip.ParsePrefix(entry)
		if err != nil {
			return netip.Prefix{}, "not a CIDR prefix"
		}
		return p, ""
	}
	a, err := netip.ParseAddr(entry)
	if err != nil {
		return netip.Prefix{}, "not an IP address"
	}
	if a.Unmap().IsUnspecified() {
		return netip.Prefix{}, "unspecified address (0.0.0.0/0 or ::/0 mean every address)"
	}
	return netip.PrefixFrom(a, a.BitLen()), ""
}

// normalizePrefix checks p and turns an IPv4-mapped IPv6 prefix into IPv4,
// or says what is wrong with it.
func normalizePrefix(p netip.Prefix) (netip.Prefix, string) {
	if !p.IsValid() {
		return netip.Prefix{}, "invalid prefix"
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Sprintf("host bits set (did you mean %s?)", p.Masked())
	}
	if a := p.Addr(); a.Is4In6() {
		// A masked prefix with a v4-mapped address is at least /96: the
		// ::ffff: marker would be cut otherwise.
		return netip.PrefixFrom(a.Unmap(), p.Bits()-96), ""
	}
	return p, ""
}
