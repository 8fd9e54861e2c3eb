package allowlist

import (
	"net/netip"

	"github.com/smileguard/smileguard/signer"
)

// SmileIDProduction holds the addresses from which Smile ID sends
// production callbacks, as published in Smile ID's security overview
// (section "IP Allowlisting"), bound to the production environment. Treat
// it as read-only; Replace makes a copy with other addresses.
var SmileIDProduction = Set{
	Name:        "production",
	Environment: signer.Production,
	Prefixes: []netip.Prefix{
		netip.MustParsePrefix("34.240.137.52/32"),
		netip.MustParsePrefix("44.230.128.108/32"),
		netip.MustParsePrefix("52.36.32.43/32"),
		netip.MustParsePrefix("52.213.46.74/32"),
	},
}

// SmileIDSandbox holds the addresses from which Smile ID sends sandbox
// callbacks, as published in Smile ID's security overview (section "IP
// Allowlisting"). A server that receives callbacks from both environments
// allows both SmileIDProduction and SmileIDSandbox. It is bound to the
// sandbox environment. Treat it as read-only; Replace makes a copy with
// other addresses.
var SmileIDSandbox = Set{
	Name:        "sandbox",
	Environment: signer.Sandbox,
	Prefixes: []netip.Prefix{
		netip.MustParsePrefix("35.166.227.53/32"),
		netip.MustParsePrefix("44.246.19.66/32"),
		netip.MustParsePrefix("54.246.37.255/32"),
		netip.MustParsePrefix("99.81.237.141/32"),
	},
}
