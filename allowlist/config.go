package allowlist

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/textproto"
	"strings"

	"github.com/smileguard/smileguard/internal/refusallog"
	"github.com/smileguard/smileguard/signer"
)

// DefaultMaxHops is the MaxHops used when Config.MaxHops is 0. Smile ID
// calls your server directly, so a genuine chain holds one entry per proxy
// of yours; ten leaves room for a CDN, load balancers and sidecars.
const DefaultMaxHops = 10

// Config configures an Allowlist. The zero value of every field except
// Allow is a safe default; New refuses a Config without Allow.
type Config struct {
	// Allow lists the sets whose addresses are admitted; it must not be
	// empty. Set names must be unique and not empty. If sets overlap, an
	// address belongs to the first set that holds it. A server that
	// receives callbacks from both Smile ID environments allows both
	// SmileIDProduction and SmileIDSandbox.
	Allow []Set

	// TrustedProxies are the peers whose forwarding header is believed,
	// such as your load balancers' subnet. A request from any other peer
	// is judged by the peer address alone. Prefixes must be valid and
	// masked; IPv4-mapped IPv6 prefixes stand for their IPv4 form. It must
	// be empty if Header is, and not empty if Header is set. An address in
	// both TrustedProxies and an allowed set is treated as a proxy when it
	// appears in the header, so it never becomes the client from there.
	TrustedProxies []netip.Prefix

	// Header is the one forwarding header read behind trusted proxies:
	// "X-Forwarded-For", "Forwarded" (RFC 7239), or a header holding a
	// single address such as "X-Real-IP" or "CF-Connecting-IP" (any other
	// name is read that way). Empty means no header: the peer is always
	// the client. The name is matched case-insensitively; it must be an
	// HTTP token without '_', because proxies disagree on whether
	// X_Forwarded_For and X-Forwarded-For are the same header. No other
	// header is ever consulted.
	Header string

	// MaxHops bounds the number of entries in the forwarding header, all
	// its lines together (for a single-address header, the number of its
	// lines). A header with more is refused, wherever the client is in it.
	// 0 means DefaultMaxHops; it must not be negative.
	MaxHops int

	// Denied answers refused requests; Reason(r) tells it why. Nil means
	// 403 Forbidden with a short plain-text body that does not reveal the
	// reason.
	Denied http.Handler

	// Logger receives a Warn record for refused requests, with the peer,
	// the client IP when it was resolved, the forwarding header (truncated)
	// and the reason: the first refusal from an address in each minute,
	// and at most 100 a minute in all; the others are counted and
	// reported in one summary record per address once its minute is over
	// (with the next refusal logged). Admitted requests are not logged. Nil
	// means no logging.
	Logger *slog.Logger
}

// snapshot is a validated, compiled Config. It is never modified once
// built, so requests may read it without locks while Update replaces it.
type snapshot struct {
	allow   prefixTable // labels index names and envs
	names   []string
	envs    []signer.Environment
	trusted prefixTable
	header  string // canonical header key, "" for headerNone
	kind    headerKind
	maxHops int
	denied  http.Handler
	logger  *slog.Logger
	sampler *refusallog.Sampler // bounds the denials logged
}

// compile validates cfg and builds its snapshot. Errors name the field.
func compile(cfg Config) (*snapshot, error) {
	s := &snapshot{
		maxHops: cfg.MaxHops,
		denied:  cfg.Denied,
		logger:  cfg.Logger,
	}
	if len(cfg.Allow) == 0 {
		return nil, configErrorf("Config.Allow is empty: the allowlist would admit nothing")
	}
	seen := make(map[string]bool, len(cfg.Allow))
	for i, set := range cfg.Allow {
		switch {
		case set.Name == "":
			return nil, configErrorf("Config.Allow[%d].Name is empty", i)
		case seen[set.Name]:
			return nil, configErrorf("Config.Allow[%d].Name %q is used twice", i, set.Name)
		case len(set.Prefixes) == 0:
			return nil, configErrorf("Config.Allow[%d] (%q) has no prefixes", i, set.Name)
		case set.Environment != "" && !set.Environment.Valid():
			return nil, configErrorf("Config.Allow[%d] (%q).Environment is neither %q, %q nor empty",
				i, set.Name, signer.Production, signer.Sandbox)
		}
		seen[set.Name] = true
		prefixes, err := normalizeField(fmt.Sprintf("Config.Allow[%d].Prefixes", i), set.Prefixes)
		if err != nil {
			return nil, err
		}
		s.allow.add(i, prefixes)
		s.names = append(s.names, set.Name)
		s.envs = append(s.envs, set.Environment)
	}

	trusted, err := normalizeField("Config.TrustedProxies", cfg.TrustedProxies)
	if err != nil {
		return nil, err
	}
	s.trusted.add(0, trusted)

	if s.header, s.kind, err = compileHeader(cfg.Header); err != nil {
		return nil, err
	}
	switch {
	case s.kind == headerNone && len(trusted) > 0:
		return nil, configErrorf("Config.TrustedProxies is set but Config.Header is empty: no header would be read")
	case s.kind != headerNone && len(trusted) == 0:
		return nil, configErrorf("Config.Header %q is set but Config.TrustedProxies is empty: the header would never be read", cfg.Header)
	}

	switch {
	case s.maxHops < 0:
		return nil, configErrorf("Config.MaxHops is negative (%d)", s.maxHops)
	case s.maxHops == 0:
		s.maxHops = DefaultMaxHops
	}
	if s.denied == nil {
		s.denied = http.HandlerFunc(forbidden)
	}
	if s.logger != nil {
		s.sampler = refusallog.New(0, 0)
	}
	return s, nil
}

// normalizeField checks and normalises the prefixes of one Config field.
func normalizeField(field string, prefixes []netip.Prefix) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, len(prefixes))
	for i, p := range prefixes {
		var problem string
		if out[i], problem = normalizePrefix(p); problem != "" {
			return nil, configErrorf("%s[%d] %s: %s", field, i, p, problem)
		}
	}
	return out, nil
}

// compileHeader validates a Config.Header and returns its canonical key and
// how to read it.
func compileHeader(name string) (string, headerKind, error) {
	if name == "" {
		return "", headerNone, nil
	}
	if tokenLen(name) != len(name) || strings.IndexByte(name, '_') >= 0 {
		return "", headerNone, configErrorf("Config.Header %q is not a valid header name (an HTTP token without '_')", name)
	}
	key := textproto.CanonicalMIMEHeaderKey(name)
	switch key {
	case "X-Forwarded-For":
		return key, headerXFF, nil
	case "Forwarded":
		return key, headerForwarded, nil
	}
	return key, headerSingle, nil
}
