// Package signertest signs Smile ID callback bodies for tests, so that a
// receiver's handlers can be tested end to end with callbacks that verify.
package signertest

import (
	"fmt"
	"time"

	"github.com/smileguard/smileguard/internal/jsonobj"
	"github.com/smileguard/smileguard/signer"
)

// SignCallback returns body (a JSON object) with top-level "signature" and
// "timestamp" set for key at t, the timestamp formatted as Smile ID sends it
// (signer.FormatTimestamp). Existing top-level "signature" and "timestamp"
// members are replaced where they stand; every other member keeps its bytes
// and its order. body itself is not modified. A body that is not a JSON
// object is an error.
func SignCallback(key signer.Key, body []byte, t time.Time) ([]byte, error) {
	return SignCallbackWithTimestamp(key, body, signer.FormatTimestamp(t))
}

// SignCallbackWithTimestamp is SignCallback with the timestamp string given
// as is, to test the other styles Smile ID's SDKs send
// ("2026-11-21 10:00:00 +0000", "1763719200", ...) or a malformed one.
func SignCallbackWithTimestamp(key signer.Key, body []byte, timestamp string) ([]byte, error) {
	signature := signer.Sign(key.APIKey, key.PartnerID, timestamp)
	out, err := jsonobj.Set(body,
		jsonobj.StringField("signature", signature),
		jsonobj.StringField("timestamp", timestamp))
	if err != nil {
		return nil, fmt.Errorf("signertest: body is not a JSON object: %w", err)
	}
	return out, nil
}
