package signertest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
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

func ExampleCallbackHeaders() {
	key := signer.Key{ID: "test", PartnerID: "1622", APIKey: "test-api-key", Environment: signer.Sandbox}
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	req := httptest.NewRequest(http.MethodPost, "/smileid/callback",
		strings.NewReader(`{"job_id":"job_01","status":"clear","product":"enhanced_kyc"}`))
	req.Header.Set("Content-Type", "application/json")
	for name, values := range signertest.CallbackHeaders(key, at) {
		req.Header[name] = values
	}
	fmt.Println(req.Header.Get("Response-Timestamp"))
	fmt.Println(req.Header.Get("Response-Signature"))
	// Output:
	// 2026-11-21T10:00:00.000Z
	// ntv9StCW6JHqSkovCHJtxDHnnJFtOI7/x0DJGNGIXtw=
}

// ExampleSigner signs the callbacks of a table test, each at a millisecond
// of its own, so that a receiver that refuses replays takes none of them
// for a replay of another.
func ExampleSigner() {
	key := signer.Key{ID: "test", PartnerID: "1622", APIKey: "test-api-key", Environment: signer.Sandbox}
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	callbacks := &signertest.Signer{Key: key, Now: func() time.Time { return at }} // the receiver's clock

	for _, body := range []string{`{"SmileJobID":"1","ResultCode":"1012"}`, `{"SmileJobID":"2","ResultCode":"1013"}`} {
		signed, err := callbacks.SignCallback([]byte(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		var stamp struct{ Timestamp string }
		if err := json.Unmarshal(signed, &stamp); err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(stamp.Timestamp)
	}
	fmt.Println(callbacks.CallbackHeaders().Get("Response-Timestamp"))
	// Output:
	// 2026-11-21T10:00:00.000Z
	// 2026-11-21T10:00:00.001Z
	// 2026-11-21T10:00:00.002Z
}
