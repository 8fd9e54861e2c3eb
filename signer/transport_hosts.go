package signer

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// hostPattern is one parsed Transport.Hosts entry.
type hostPattern struct {
	name string     // lower-case, without a trailing dot; "" for an IP literal
	addr netip.Addr // the IP literal, if the entry is one
	port string     // "": the scheme's default port

	// exact is the URL host the entry matches as it is most often
	// written ("testapi.smileidentity.com", "127.0.0.1:8443"), to be
	// compared whole before the URL's host is taken apart.
	exact string
}

// parseHostPattern parses a Hosts entry: "host", "host:port", "[ipv6]" or
// "[ipv6]:port". It returns the reason it refuses an entry, to follow the
// quoted entry in an error.
func parseHostPattern(entry string) (hostPattern, string) {
	var p hostPattern
	switch {
	case entry == "":
		return p, "is empty"
	case strings.Contains(entry, "://"):
		return p, `has a scheme: write the host alone, as "host" or "host:port"`
	}
	for i := 0; i < len(entry); i++ {
		if c := entry[i]; c <= ' ' || c >= 0x7f {
			return p, "has a space, a control character or a non-ASCII character (write international names in punycode)"
		}
	}
	if strings.ContainsAny(entry, "/?#@\\") {
		return p, `is not "host" or "host:port": it has a path, query, fragment or user info`
	}

	host, port := entry, ""
	hasPort := false
	if strings.HasPrefix(entry, "[") {
		end := strings.IndexByte(entry, ']')
		if end < 0 {
			return p, "has an unclosed bracket"
		}
		host, port = entry[1:end], entry[end+1:]
		if port != "" {
			if port[0] != ':' {
				return p, `has something other than ":port" after the bracket`
			}
			port, hasPort = port[1:], true
		}
		addr, err := netip.ParseAddr(host)
		if err != nil || !addr.Is6() {
			return p, "does not hold an IPv6 address in its brackets"
		}
		p.addr = addr
	} else {
		switch strings.Count(entry, ":") {
		case 0:
		case 1:
			i := strings.IndexByte(entry, ':')
			host, port, hasPort = entry[:i], entry[i+1:], true
		default:
			return p, "has more than one colon: write an IPv6 address in brackets"
		}
		if addr, err := netip.ParseAddr(host); err == nil {
			p.addr = addr
		} else {
			host = strings.TrimSuffix(host, ".")
			if _, err := netip.ParseAddr(host); err == nil {
				return p, "has an IP address ending in a dot"
			}
			if host == "" || strings.Contains(host, "..") || host[0] == '.' || strings.ContainsAny(host, "[]%") {
				return p, "has no valid host name"
			}
			p.name = strings.ToLower(host)
		}
	}
	if hasPort {
		if !validPort(port) {
			return p, "has a port that is not a number from 1 to 65535 without leading zeros"
		}
		p.port = port
	}
	p.exact = p.name
	if p.addr.IsValid() {
		p.exact = p.addr.String()
		if p.addr.Is6() {
			p.exact = "[" + p.exact + "]"
		}
	}
	if p.port != "" {
		p.exact += ":" + p.port
	}
	return p, ""
}

func validPort(port string) bool {
	if port == "" || len(port) > 5 || port[0] == '0' || !isDigits(port) {
		return false
	}
	return digits(port) <= 65535
}

// match returns the index of the first of the state's hosts a request to
// u is bound for. The host is the URL's, where the connection goes and
// whose name TLS checks; a Host header that says otherwise does not count.
func (s *transportState) match(u *url.URL) (int, bool) {
	for i := range s.hosts {
		if u.Host == s.hosts[i].exact {
			return i, true
		}
	}
	host, port := u.Hostname(), u.Port()
	def := defaultPort(u.Scheme)
	if port == "" {
		port = def
	}
	var addr netip.Addr
	parsed := false
	for i, p := range s.hosts {
		want := p.port
		if want == "" {
			want = def
		}
		if port != want {
			continue
		}
		if p.addr.IsValid() {
			if !parsed {
				// An IP literal with a trailing dot is not the address:
				// it would be looked up as a name.
				addr, _ = netip.ParseAddr(host)
				parsed = true
			}
			if addr == p.addr {
				return i, true
			}
			continue
		}
		// ASCII only: strings.EqualFold would match "ſmileidentity.com"
		// (long s) to "smileidentity.com", and that is another domain.
		if asciiEqualFold(strings.TrimSuffix(host, "."), p.name) {
			return i, true
		}
	}
	return 0, false
}

// smileIDEnvironment reports whether host names one of Smile ID's API
// hosts, as Transport.Hosts entries match names, and whose it is.
func smileIDEnvironment(host string) (Environment, bool) {
	host = strings.TrimSuffix(host, ".")
	for _, env := range [...]Environment{Sandbox, Production} {
		if asciiEqualFold(host, env.Host()) {
			return env, true
		}
	}
	return "", false
}

// wrongHost is the error for a request to the Smile ID host of env that is
// not one of the state's hosts.
func (s *transportState) wrongHost(env Environment, u *url.URL) error {
	if env != s.key.Environment {
		return fmt.Errorf("%w: %s is the %s host, and Key is a %s key", ErrWrongEnvironment, u.Host, env, s.key.Environment)
	}
	return fmt.Errorf("%w: %s is not one of Transport.Hosts", ErrWrongEnvironment, u.Host)
}

func defaultPort(scheme string) string {
	switch scheme {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// checkScheme refuses to sign a request that would travel in the clear,
// or over anything but https, unless it stays on this machine.
func checkScheme(u *url.URL) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
	}
	return fmt.Errorf("%w (%s to %s)", ErrInsecureRequest, u.Scheme, u.Host)
}

// isLoopback reports whether host is "localhost" or a loopback IP literal.
func isLoopback(host string) bool {
	if asciiEqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// asciiEqualFold reports whether a and b are equal under ASCII case
// folding, and only that.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
