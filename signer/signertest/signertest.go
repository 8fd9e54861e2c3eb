// Package signertest signs Smile ID callbacks for tests, so that a
// receiver's handlers can be tested end to end with callbacks that verify:
// [SignCallback] for body-signed ones (v1 and v2), [CallbackHeaders] for
// header-signed ones (v3 webhooks).
//
// A signature covers a timestamp (in milliseconds) and the partner id,
// not the body, so two callbacks signed with one key at one millisecond
// carry the same (signature, timestamp) pair. A receiver that refuses
// replays, as smileguard's middleware does, takes the second for a replay
// of the first with another body and refuses it: a table test that signs
// every case at one fixed time.Time fails on its second case, and one
// signing at time.Now fails now and then, when two cases share a
// millisecond. Give each callback its own millisecond: a [Signer] hands out
// strictly increasing ones, from as many goroutines as sign.
package signertest

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/smileguard/smileguard/internal/jsonobj"
	"github.com/smileguard/smileguard/signer"
)

// SignCallback returns body (a JSON object) with top-level "signature" and
// "timestamp" set for key at t, the timestamp formatted as Smile ID sends it
// ([signer.FormatTimestamp]). Existing top-level "signature" and
// "timestamp" members are replaced where they stand; every other member
// keeps its bytes and its order. body itself is not modified. A body that
// is not a JSON object is an error.
func SignCallback(key signer.Key, body []byte, t time.Time) ([]byte, error) {
	return SignCallbackWithTimestamp(key, body, signer.FormatTimestamp(t))
}

// SignCallbackWithTimestamp is [SignCallback] with the timestamp string
// given as is, to test the other styles Smile ID's SDKs send
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

// CallbackHeaders returns the Response-Signature and Response-Timestamp
// headers of a v3 callback signed by key at t, the timestamp formatted as
// [signer.FormatTimestamp] writes it and the signature over it and
// key.PartnerID as given. Add them to a request whose body is the
// callback's JSON object.
func CallbackHeaders(key signer.Key, t time.Time) http.Header {
	timestamp := signer.FormatTimestamp(t)
	return http.Header{
		"Response-Signature": {signer.Sign(key.APIKey, key.PartnerID, timestamp)},
		"Response-Timestamp": {timestamp},
	}
}

// A Signer signs callbacks with Key, each at a millisecond of its own: the
// first at Now, each later one at Now or one millisecond after the one
// before, whichever is later. Its callbacks therefore never share a
// (signature, timestamp) pair, and stay as fresh as the clock allows,
// which a receiver's freshness window judges.
//
// The zero value signs with an empty Key; set Key (and Now, if the
// receiver under test has a fixed clock) before first use. A Signer is
// safe for concurrent use by multiple goroutines.
type Signer struct {
	Key signer.Key
	Now func() time.Time // nil: time.Now

	mu   sync.Mutex
	last time.Time // the last time handed out
}

// Next returns the time of the next callback: at a millisecond no earlier
// call returned.
func (s *Signer) Next() time.Time {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().Truncate(time.Millisecond)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.last.IsZero() && !t.After(s.last) {
		t = s.last.Add(time.Millisecond)
	}
	s.last = t
	return t
}

// SignCallback is [SignCallback] with the Signer's Key at [Signer.Next].
func (s *Signer) SignCallback(body []byte) ([]byte, error) {
	return SignCallback(s.Key, body, s.Next())
}

// CallbackHeaders is [CallbackHeaders] with the Signer's Key at
// [Signer.Next].
func (s *Signer) CallbackHeaders() http.Header {
	return CallbackHeaders(s.Key, s.Next())
}
