// Package allowlist admits HTTP requests only from allowed IP addresses,
// such as the addresses from which Smile ID sends its callbacks, and only
// believes forwarding headers that come from proxies you trust.
//
// Configure it with the sets to allow, the proxies in front of your server
// and the one header they write:
//
//	al, err := allowlist.New(allowlist.Config{
//		Allow:          []allowlist.Set{allowlist.SmileIDProduction, allowlist.SmileIDSandbox},
//		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
//		Header:         "X-Forwarded-For",
//	})
//	...
//	http.Handle("/smileid/callback", al.Handler(callbackHandler))
//
// Smile ID publishes one list of callback addresses per environment. A
// server that receives callbacks from both production and sandbox must
// allow both sets; [Decision.Set] then tells which one a request came from.
//
// # The client IP
//
// Every address (the peer, each header entry and the configuration) is
// compared after Unmap and WithZone(""): ::ffff:192.0.2.1 is 192.0.2.1 and
// fe80::1%eth0 is fe80::1. The client IP is found by the right-most-untrusted
// rule:
//
//  1. The peer is parsed from RemoteAddr, with or without a port.
//  2. If the peer is not in [Config.TrustedProxies], it is the client, and
//     every forwarding header is ignored: anybody can write one.
//  3. Otherwise only [Config.Header] is read. X-Forwarded-For and Forwarded
//     are walked from the last line to the first and, within a line, from
//     the right-most entry to the left-most; entries of trusted proxies are
//     skipped and the first other entry is the client. Entries to its left
//     were written by the client itself: they are not parsed, they only
//     count towards [Config.MaxHops]. For a header that holds a single
//     address, such as X-Real-IP, the last line holds the client.
//
// Entries may carry a port ("192.0.2.1:4711", "[2001:db8::1]:4711") and
// spaces or tabs around them. Forwarded follows RFC 7239: the for=
// parameter, case-insensitive, with quoted strings and escapes; IPv6 and
// ports must be quoted there, as the RFC requires, and a quoted string left
// open anywhere in the header is a denial.
//
// # Failing closed
//
// The allowlist never guesses and never falls back to another address or
// header. These are denials, each with its own error for [Allowlist.Check]
// and [Reason]:
//
//   - a peer that is not an IP address ([ErrBadPeer]);
//   - a trusted peer without the header ([ErrNoHeader]);
//   - an entry that had to be read and is not an IP address: garbage, an
//     empty entry, "unknown", an obfuscated "_id", a hostname, 127.1,
//     0x7f.0.0.1, 010.0.0.1, the unspecified 0.0.0.0 and ::, an invalid
//     port, and in Forwarded an element with no or two for= parameters
//     ([ErrBadHeader]);
//   - a header with more than [Config.MaxHops] entries, [DefaultMaxHops] by
//     default ([ErrTooManyHops]);
//   - a header whose every entry is a trusted proxy ([ErrAllTrusted]);
//   - a client IP in none of the allowed sets ([ErrNotAllowed]).
//
// # Changing the configuration
//
// [Set.Replace] takes Smile ID's addresses from configuration the day they
// change, keeping the set's environment, and [Allowlist.Update] swaps the
// whole configuration atomically, so the new list takes effect without a
// restart or a release (in a middleware.Guard, its UpdateAllowlist does
// it); requests already running keep the configuration they started with.
// The built-in sets are those of the "IP Allowlisting" section of Smile
// ID's security overview.
package allowlist
