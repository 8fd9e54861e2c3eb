package interop

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// The production keys of the tests: one partner id without leading zeros,
// one with.
var (
	key1622 = signer.Key{ID: "partner-1622", PartnerID: "1622", APIKey: "interop-production-key-1622", Environment: signer.Production}
	key085  = signer.Key{ID: "partner-085", PartnerID: "085", APIKey: "interop-production-key-085", Environment: signer.Production}
)

// trimmedPartnerID is key085's partner id as Smile ID's v3 API spells it,
// without leading zeros. API.md: header-signed callbacks verify with
// either spelling, body-signed ones with the partner id as configured.
const trimmedPartnerID = "85"

// smileIDPeer is one of Smile ID's production callback addresses.
const smileIDPeer = "52.213.46.74:443"

// Timestamp styles of Smile ID's SDKs (PROTOCOL.md), as Go writes them.
func javaScriptTimestamp(t time.Time) string { return signer.FormatTimestamp(t) }
func pythonTimestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000-07:00") // -07:00 writes +00:00, as Python does
}
func rubyTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 -0700") }
func lagosPHPTimestamp(t time.Time) string {
	return t.In(time.FixedZone("WAT", 3600)).Format(time.RFC3339) // ATOM in a +01:00 zone
}
func javaTimestamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// newGuard returns a Guard as a production receiver configures it: Smile
// ID's production addresses, the two keys, every other setting its default
// (so its Now is time.Now).
func newGuard(t *testing.T) *middleware.Guard {
	t.Helper()
	keyring, err := signer.NewKeyring(key1622, key085)
	require.NoError(t, err)
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  middleware.CallbackConfig{Keyring: keyring},
	})
	require.NoError(t, err)
	return guard
}

// A receiver is the handler behind the guard; it records what reached it.
type receiver struct {
	calls    int
	body     []byte
	callback middleware.Callback
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rc.calls++
	rc.body, _ = io.ReadAll(r.Body)
	rc.callback, _ = middleware.CallbackFromContext(r.Context())
}

// deliver sends body from Smile ID's address through guard to a fresh
// receiver, with header set on the request.
func deliver(guard *middleware.Guard, body []byte, header http.Header) (*httptest.ResponseRecorder, *receiver) {
	r := httptest.NewRequest(http.MethodPost, "/smileid/callback", bytes.NewReader(body))
	for name, values := range header {
		r.Header[name] = values
	}
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = smileIDPeer
	rc := &receiver{}
	w := httptest.NewRecorder()
	guard.Handler(rc).ServeHTTP(w, r)
	return w, rc
}

// v3Body is a v3 callback body (PROTOCOL.md): snake_case, no signature or
// timestamp members.
func v3Body(i int, createdAt string) []byte {
	return fmt.Appendf(nil, `{"job_id":"job_01jd%022d","user_id":"user_01jd%021d","status":"clear","message":"Verified",`+
		`"product":"enhanced_kyc","partner_params":{"job_id":"job-%d","user_id":"user-%d"},`+
		`"kyc_receipt":"https://example.com/receipts/%d","created_at":%q}`, i, i, i, i, i, createdAt)
}

// TestNodeToGo has Smile ID's Node SDK sign, in one node process, and holds
// signer and the Guard to what it made.
func TestNodeToGo(t *testing.T) {
	// Explicit timestamps are a second in the past, so that none can equal
	// a default timestamp the SDK takes when node runs.
	at := time.Now().Add(-time.Second)
	cases := []struct {
		name      string
		partnerID string     // what the SDK is given
		key       signer.Key // the key of the keyring that must verify it
		timestamp string     // "": the SDK's default
	}{
		{"SDK default timestamp, partner 1622", "1622", key1622, ""},
		{"SDK default timestamp, partner 085 with its leading zero", "085", key085, ""},
		{"SDK default timestamp, partner 85 for a key configured as 085", trimmedPartnerID, key085, ""},
		{"JavaScript toISOString timestamp", "1622", key1622, javaScriptTimestamp(at)},
		{"Python isoformat timestamp", "085", key085, pythonTimestamp(at)},
		{"Ruby Time#to_s timestamp", "1622", key1622, rubyTimestamp(at)},
		{"PHP ATOM timestamp at +01:00", "085", key085, lagosPHPTimestamp(at)},
		{"Java Instant timestamp with nanoseconds", "1622", key1622, javaTimestamp(at)},
	}
	requests := make([]generateRequest, 0, len(cases)+2)
	for i, c := range cases {
		req := generateRequest{PartnerID: c.partnerID, APIKey: c.key.APIKey,
			Fields: map[string]string{"SmileJobID": fmt.Sprintf("00000047%02d", i), "ResultCode": "1012", "ResultText": "Enroll User"}}
		if c.timestamp != "" {
			req.Timestamp = c.timestamp
		}
		requests = append(requests, req)
	}
	unixMillis := at.UnixMilli()
	requests = append(requests,
		generateRequest{PartnerID: key085.PartnerID, APIKey: key085.APIKey, Timestamp: unixMillis},
		generateRequest{PartnerID: "partner", APIKey: "apiKey", Timestamp: "2023-02-13T15:07:42.214Z"},
	)
	results := generate(t, requests)
	numeric, javaVector := results[len(cases)], results[len(cases)+1]
	results = results[:len(cases)]

	t.Run("signatures verify with signer.Verify and the keyring", func(t *testing.T) {
		keyring, err := signer.NewKeyring(key1622, key085)
		require.NoError(t, err)
		for i, c := range cases {
			got := results[i]
			timestamp := got.timestamp(t)
			if c.timestamp != "" {
				assert.Equal(t, c.timestamp, timestamp, "%s: the SDK returns the timestamp it was given", c.name)
			}
			assert.Len(t, got.Signature, 44, "%s: padded standard base64 of 32 bytes", c.name)
			assert.True(t, signer.Verify(c.key.APIKey, c.partnerID, timestamp, got.Signature), "%s: signer.Verify", c.name)
			mac, err := signer.ParseSignature([]byte(got.Signature))
			require.NoError(t, err, c.name)
			opts := signer.VerifyOptions{Environments: []signer.Environment{signer.Production}}
			key, err := keyring.VerifyMAC(timestamp, mac, opts)
			if c.partnerID == trimmedPartnerID {
				assert.ErrorIs(t, err, signer.ErrInvalidSignature, "%s: the keyring verifies the partner id as configured", c.name)
				opts.TrimmedPartnerID = true // as the Guard does for header-signed callbacks
				key, err = keyring.VerifyMAC(timestamp, mac, opts)
			}
			if assert.NoError(t, err, "%s: Keyring.VerifyMAC", c.name) {
				assert.Equal(t, c.key.ID, key.ID, c.name)
			}
		}
	})

	t.Run("the SDK's default timestamp is fresh and is FormatTimestamp's format", func(t *testing.T) {
		for i, c := range cases {
			if c.timestamp != "" {
				continue
			}
			timestamp := results[i].timestamp(t)
			parsed, err := signer.ParseTimestamp(timestamp)
			require.NoError(t, err, "%s: %q", c.name, timestamp)
			assert.WithinDuration(t, time.Now(), parsed, middleware.DefaultTolerance, "%s: fresh", c.name)
			assert.Equal(t, timestamp, signer.FormatTimestamp(parsed), "%s: UTC with milliseconds, as smileguard sends", c.name)
		}
	})

	t.Run("every timestamp the SDK signed parses and is fresh", func(t *testing.T) {
		for i, c := range cases {
			parsed, err := signer.ParseTimestamp(results[i].timestamp(t))
			if assert.NoError(t, err, c.name) {
				assert.WithinDuration(t, time.Now(), parsed, middleware.DefaultTolerance, c.name)
			}
		}
	})

	t.Run("the Guard admits them as body members of a v1 callback", func(t *testing.T) {
		guard := newGuard(t)
		for i, c := range cases {
			body := []byte(results[i].Body) // serialised by JSON.stringify, as the SDK's own requests are
			w, rc := deliver(guard, body, nil)
			if c.partnerID == trimmedPartnerID {
				assert.Equal(t, http.StatusUnauthorized, w.Code, "%s: body-signed callbacks sign the partner id as configured", c.name)
				assert.Zero(t, rc.calls, c.name)
				continue
			}
			assert.Equal(t, http.StatusOK, w.Code, "%s: %s", c.name, w.Body)
			if assert.Equal(t, 1, rc.calls, "%s: the handler runs once", c.name) {
				assert.Equal(t, string(body), string(rc.body), "%s: the handler reads the exact bytes", c.name)
				assert.Equal(t, c.key.ID, rc.callback.KeyID, c.name)
				assert.Equal(t, middleware.BodySigned, rc.callback.Format, c.name)
			}
		}
	})

	t.Run("the Guard admits them as Response-Signature headers on a v3 body", func(t *testing.T) {
		guard := newGuard(t)
		for i, c := range cases {
			timestamp := results[i].timestamp(t)
			body := v3Body(i, timestamp)
			require.True(t, json.Valid(body), "%s: the v3 body is JSON", c.name)
			header := http.Header{}
			header.Set("Response-Signature", results[i].Signature)
			header.Set("Response-Timestamp", timestamp)
			w, rc := deliver(guard, body, header)
			assert.Equal(t, http.StatusOK, w.Code, "%s: %s", c.name, w.Body)
			if assert.Equal(t, 1, rc.calls, "%s: the handler runs once", c.name) {
				assert.Equal(t, string(body), string(rc.body), "%s: the handler reads the exact bytes", c.name)
				assert.Equal(t, c.key.ID, rc.callback.KeyID, c.name)
				parsed, err := signer.ParseTimestamp(timestamp)
				require.NoError(t, err)
				assert.True(t, parsed.Equal(rc.callback.Timestamp), "%s: the callback carries the header's timestamp", c.name)
				assert.Equal(t, middleware.HeaderSigned, rc.callback.Format, c.name)
			}
		}
	})

	t.Run("a number timestamp is signed in its toISOString form and returned as the number", func(t *testing.T) {
		assert.Equal(t, strconv.FormatInt(unixMillis, 10), string(numeric.Timestamp))
		iso := signer.FormatTimestamp(time.UnixMilli(unixMillis))
		assert.True(t, signer.Verify(key085.APIKey, key085.PartnerID, iso, numeric.Signature), "signed over %s", iso)
		assert.False(t, signer.Verify(key085.APIKey, key085.PartnerID, string(numeric.Timestamp), numeric.Signature),
			"not over the digits it returns beside the signature")
	})

	t.Run("the SDK signs the Java SDK's test vector", func(t *testing.T) {
		assert.Equal(t, "XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=", javaVector.Signature)
	})
}

// TestGoToNode has signer and signertest sign, and Smile ID's Node SDK
// confirm, in one node process.
func TestGoToNode(t *testing.T) {
	at := time.Now()
	callback, err := signertest.SignCallback(key085, []byte(`{"SmileJobID":"0000004799","ResultCode":"1012"}`), at)
	require.NoError(t, err)
	var members struct{ Signature, Timestamp string }
	require.NoError(t, json.Unmarshal(callback, &members))

	signed := func(key signer.Key, timestamp string) confirmRequest {
		return confirmRequest{PartnerID: key.PartnerID, APIKey: key.APIKey, Timestamp: timestamp,
			Signature: signer.Sign(key.APIKey, key.PartnerID, timestamp)}
	}
	withPartnerID := func(req confirmRequest, partnerID string) confirmRequest { req.PartnerID = partnerID; return req }
	withAPIKey := func(req confirmRequest, apiKey string) confirmRequest { req.APIKey = apiKey; return req }
	withTimestamp := func(req confirmRequest, timestamp string) confirmRequest { req.Timestamp = timestamp; return req }

	tests := []struct {
		name      string
		req       confirmRequest
		want      bool
		wantThrow bool // the SDK throws: Date cannot parse the timestamp
	}{
		{"signer.Sign with FormatTimestamp, partner 1622", signed(key1622, signer.FormatTimestamp(at)), true, false},
		{"signer.Sign with FormatTimestamp, partner 085", signed(key085, signer.FormatTimestamp(at)), true, false},
		{"signertest.SignCallback members, partner 085",
			confirmRequest{PartnerID: key085.PartnerID, APIKey: key085.APIKey, Timestamp: members.Timestamp, Signature: members.Signature}, true, false},
		{"signer.Sign with a Python timestamp", signed(key1622, pythonTimestamp(at)), true, false},
		{"signer.Sign with a Ruby timestamp", signed(key085, rubyTimestamp(at)), true, false},
		{"signer.Sign with a PHP timestamp at +01:00", signed(key1622, lagosPHPTimestamp(at)), true, false},
		{"signer.Sign with a Java timestamp", signed(key085, javaTimestamp(at)), true, false},
		{"signed for 085, confirmed for 85: the SDK keeps leading zeros",
			withPartnerID(signed(key085, signer.FormatTimestamp(at)), "85"), false, false},
		{"confirmed with another API key is refused",
			withAPIKey(signed(key1622, signer.FormatTimestamp(at)), key085.APIKey), false, false},
		{"confirmed with a timestamp one millisecond later is refused",
			withTimestamp(signed(key1622, signer.FormatTimestamp(at)), signer.FormatTimestamp(at.Add(time.Millisecond))), false, false},
		{"unix seconds: the SDK cannot parse them", signed(key1622, strconv.FormatInt(at.Unix(), 10)), false, true},
		{"unix milliseconds as a string: the SDK cannot parse them", signed(key1622, strconv.FormatInt(at.UnixMilli(), 10)), false, true},
	}
	requests := make([]confirmRequest, len(tests))
	for i, tt := range tests {
		requests[i] = tt.req
	}
	verdicts := confirm(t, requests)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verdicts[i]
			assert.Equal(t, tt.want, got.OK, "confirm_signature: %v", got)
			assert.Equal(t, tt.wantThrow, got.Error != "", "confirm_signature: %v", got)
		})
	}
}
