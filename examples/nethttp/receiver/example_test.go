package receiver_test

import (
	"fmt"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
)

func ExampleFromEnv() {
	vars := map[string]string{
		"SMILEID_PARTNER_ID":         "085",
		"SMILEID_PRODUCTION_API_KEY": "a-key-pasted-with-its-newline\n",
		"SMILEGUARD_LISTEN":          "8080",
	}
	_, err := receiver.FromEnv(func(name string) string { return vars[name] })
	fmt.Println(err)
	// Output: receiver: bad configuration: SMILEID_PRODUCTION_API_KEY has white space around it; SMILEGUARD_LISTEN "8080": not host:port
}
