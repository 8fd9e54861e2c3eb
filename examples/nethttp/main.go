// Command nethttp is a Smile ID callback receiver on net/http, configured
// from environment variables (see package receiver for the list):
//
//	SMILEID_KEYS=production SMILEID_PRODUCTION_PARTNER_ID=1622 SMILEID_PRODUCTION_API_KEY=... \
//	SMILEID_PRODUCTION_ENVIRONMENT=production go run ./examples/nethttp
//
// It logs JSON to stderr and stops gracefully on SIGINT or SIGTERM.
package main

import (
	"os"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
)

func main() {
	os.Exit(receiver.Main("receiver", receiver.Routes))
}
