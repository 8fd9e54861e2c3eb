package receiver_test

import (
	"fmt"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
)

func ExampleFromEnv() {
	vars := map[string]string{
		"SMILEID_KEYS":                           "production-2026-11",
		"SMILEID_PRODUCTION_2026_11_PARTNER_ID":  "085",
		"SMILEID_PRODUCTION_2026_11_API_KEY":     "a-key-pasted-with-its-newline\n",
		"SMILEID_PRODUCTION_2026_11_ENVIRONMENT": "production",
		"SMILEGUARD_LISTEN":                      "8080",
	}
	_, err := receiver.FromEnv(func(name string) (string, bool) {
		value, ok := vars[name]
		return value, ok
	})
	fmt.Println(err)
	// Output: receiver: bad configuration: signer: cannot load keys: SMILEID_PRODUCTION_2026_11_API_KEY: signer: invalid key "production-2026-11": APIKey has leading or trailing white space; SMILEGUARD_LISTEN "8080": not host:port
}
