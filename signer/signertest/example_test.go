package signertest_test

import (
	"fmt"
	"time"

	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

func ExampleSignCallback() {
	key := signer.Key{ID: "test", PartnerID: "1622", APIKey: "test-api-key", Environment: signer.Sandbox}
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	body, err := signertest.SignCallback(key, []byte(`{"SmileJobID":"0000000001","ResultCode":"1012"}`), at)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(body))
	// Output:
	// {"SmileJobID":"0000000001","ResultCode":"1012","signature":"ntv9StCW6JHqSkovCHJtxDHnnJFtOI7/x0DJGNGIXtw=","timestamp":"2026-11-21T10:00:00.000Z"}
}
