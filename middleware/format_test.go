package middleware

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/signer"
)

// v3Body is a v3 webhook body: snake_case, no signature members.
const v3Body = `{"job_id":"job_01hv9w2k3m4n5p6q7r8s9t0v1w","user_id":"user_01hv9w2k3m4n5p6q7r8s9t0v1x","status":"clear",` +
	`"message":"Verified","product":"enhanced_kyc","partner_params":{"order":"42"},` +
	`"kyc_receipt":"https://example.com/r/1","created_at":"2026-11-21T09:59:58.000Z"}`

// headerSigned returns a v3 webhook request: body with the signature
// headers of key at testNow+skew, signed for partnerID (key's if empty),
// optionally from a client the allowlist placed in set.
func headerSigned(key signer.Key, skew time.Duration, partnerID, body, set string) *http.Request {
	if partnerID == "" {
		partnerID = key.PartnerID
	}
	ts := signer.FormatTimestamp(testNow.Add(skew))
	r := post([]byte(body), set)
	r.Header.Set(SignatureHeader, signer.Sign(key.APIKey, partnerID, ts))
	r.Header.Set(TimestampHeader, ts)
	return r
}

var zeroPaddedKey = signer.Key{ID: "zeros", PartnerID: "0042", APIKey: "zero-padded-api-key", Environment: signer.Production}

func TestHeaderSignedAnswers(t *testing.T) {
	ts := signer.FormatTimestamp(testNow)
	sig := signer.Sign(productionKey.APIKey, productionKey.PartnerID, ts)
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		reason error // matched with errors.Is; nil for an accepted callback
	}{
		{"a genuine v3 webhook", func() *http.Request { return headerSigned(productionKey, 0, "", v3Body, "") }, 200, nil},
		{"header names in any case", func() *http.Request {
			r := post([]byte(v3Body), "")
			r.Header.Set("response-signature", sig)
			r.Header.Set("RESPONSE-TIMESTAMP", ts)
			return r
		}, 200, nil},
		{"the body's own members are not consulted", func() *http.Request {
			return headerSigned(productionKey, 0, "", `{"signature":"forged","timestamp":"1999","job_id":"j"}`, "")
		}, 200, nil},
		{"a signature header without the timestamp", func() *http.Request {
			r := post([]byte(v3Body), "")
			r.Header.Set(SignatureHeader, sig)
			return r
		}, 400, errHeaderMissing},
		{"a timestamp header without the signature, beside body members", func() *http.Request {
			r := post(signedBody(t, productionKey, 0), "")
			r.Header.Set(TimestampHeader, ts)
			return r
		}, 400, errHeaderMissing},
		{"the signature header twice", func() *http.Request {
			r := headerSigned(productionKey, 0, "", v3Body, "")
			r.Header.Add(SignatureHeader, sig)
			return r
		}, 400, errHeaderRepeated},
		{"the timestamp header twice", func() *http.Request {
			r := headerSigned(productionKey, 0, "", v3Body, "")
			r.Header.Add(TimestampHeader, ts)
			return r
		}, 400, errHeaderRepeated},
		{"a body that is not a JSON object", func() *http.Request { return headerSigned(productionKey, 0, "", `["job_id"]`, "") }, 400, errNotObject},
		{"an empty body", func() *http.Request { return headerSigned(productionKey, 0, "", ``, "") }, 400, errNotObject},
		{"trailing data after the object", func() *http.Request { return headerSigned(productionKey, 0, "", v3Body+`{}`, "") }, 400, errNotObject},
		{"a bad body is judged before bad headers", func() *http.Request {
			r := headerSigned(productionKey, 0, "", `nope`, "")
			r.Header.Add(TimestampHeader, ts)
			return r
		}, 400, errNotObject},
		{"an unparseable header timestamp", func() *http.Request {
			r := headerSigned(productionKey, 0, "", v3Body, "")
			r.Header.Set(TimestampHeader, "21/11/2026 10:00")
			r.Header.Set(SignatureHeader, signer.Sign(productionKey.APIKey, productionKey.PartnerID, "21/11/2026 10:00"))
			return r
		}, 400, signer.ErrBadTimestamp},
		{"an over-long header timestamp", func() *http.Request {
			r := headerSigned(productionKey, 0, "", v3Body, "")
			r.Header.Set(TimestampHeader, ts+strings.Repeat(" ", 100))
			return r
		}, 400, ErrBadTimestamp},
		{"a stale header timestamp", func() *http.Request { return headerSigned(productionKey, -6*time.Minute, "", v3Body, "") }, 401, ErrStaleTimestamp},
		{"a far-future header timestamp", func() *http.Request { return headerSigned(productionKey, 6*time.Minute, "", v3Body, "") }, 401, ErrStaleTimestamp},
		{"a forged header signature", func() *http.Request {
			return headerSigned(signer.Key{PartnerID: "1622", APIKey: "guessed"}, 0, "", v3Body, "")
		}, 401, signer.ErrInvalidSignature},
		{"an over-long header signature", func() *http.Request {
			r := headerSigned(productionKey, 0, "", v3Body, "")
			r.Header.Set(SignatureHeader, sig+"AAAA")
			return r
		}, 401, signer.ErrMalformedSignature},
		{"a signature header that is not base64", func() *http.Request {
			r := headerSigned(productionKey, 0, "", v3Body, "")
			r.Header.Set(SignatureHeader, "not a signature")
			return r
		}, 401, signer.ErrMalformedSignature},
		{"a sandbox key from a production address", func() *http.Request { return headerSigned(sandboxKey, 0, "", v3Body, "production") }, 401, signer.ErrInvalidSignature},
		{"a production key from a production address", func() *http.Request { return headerSigned(productionKey, 0, "", v3Body, "production") }, 200, nil},
		{"the partner id as configured, with its zeros", func() *http.Request { return headerSigned(zeroPaddedKey, 0, "0042", v3Body, "") }, 200, nil},
		{"the partner id without its leading zeros", func() *http.Request { return headerSigned(zeroPaddedKey, 0, "42", v3Body, "") }, 200, nil},
		{"the partner id with a zero too many", func() *http.Request { return headerSigned(zeroPaddedKey, 0, "00042", v3Body, "") }, 401, signer.ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ring, err := signer.NewKeyring(sandboxKey, productionKey, zeroPaddedKey)
			require.NoError(t, err)
			next := &recorder{}
			var reason error
			v := newVerifier(t, CallbackConfig{Keyring: ring, Rejected: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reason = Reason(r)
				http.Error(w, reason.Error(), StatusCode(reason))
			})})
			r := tt.req()
			sent := sentBytes(r)
			w := serve(v.Handler(next), r)
			assert.Equal(t, tt.status, w.Code, "body: %s", w.Body)
			if tt.reason == nil {
				require.Equal(t, 1, next.count())
				assert.Equal(t, sent, next.bodies[0], "next reads the exact bytes that arrived")
				assert.Equal(t, HeaderSigned, next.seen[0].Format)
				return
			}
			assert.Equal(t, 0, next.count())
			assert.True(t, errors.Is(reason, tt.reason), "reason %v, want %v", reason, tt.reason)
		})
	}
}

// TestPairIsOnePairWhicheverCarrier moves a header pair into body members
// and back: the delivery is the same pair, bound to the first body.
func TestPairIsOnePairWhicheverCarrier(t *testing.T) {
	ts := signer.FormatTimestamp(testNow)
	sig := signer.Sign(productionKey.APIKey, productionKey.PartnerID, ts)
	moved := []byte(`{"job_id":"job_01hv9w2k3m4n5p6q7r8s9t0v1w","status":"clear","signature":"` + sig + `","timestamp":"` + ts + `"}`)

	next := &recorder{}
	h := newVerifier(t, CallbackConfig{}).Handler(next)
	assert.Equal(t, 200, serve(h, headerSigned(productionKey, 0, "", v3Body, "")).Code, "the genuine v3 webhook")
	assert.Equal(t, 200, serve(h, headerSigned(productionKey, 0, "", v3Body, "")).Code, "its retry is acknowledged")
	assert.Equal(t, 401, serve(h, headerSigned(productionKey, 0, "", `{"status":"clear"}`, "")).Code, "the header pair with another body")
	assert.Equal(t, 401, serve(h, post(moved, "")).Code, "the header pair moved into body members")
	assert.Equal(t, 1, next.count())

	// And the other way: body members first, then the same pair in headers.
	next = &recorder{}
	h = newVerifier(t, CallbackConfig{}).Handler(next)
	assert.Equal(t, 200, serve(h, post(moved, "")).Code)
	assert.Equal(t, 401, serve(h, headerSigned(productionKey, 0, "", v3Body, "")).Code, "the body pair moved into headers")
	assert.Equal(t, 1, next.count())
}

func TestFormatsRestrictWhatIsAccepted(t *testing.T) {
	for _, tt := range []struct {
		name         string
		formats      []CallbackFormat
		body, header int
	}{
		{"nil accepts both", nil, 200, 200},
		{"both listed", []CallbackFormat{HeaderSigned, BodySigned}, 200, 200},
		{"body-signed only", []CallbackFormat{BodySigned}, 200, 400},
		{"header-signed only", []CallbackFormat{HeaderSigned}, 400, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var reasons []error
			h := newVerifier(t, CallbackConfig{Formats: tt.formats, Rejected: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				reasons = append(reasons, Reason(r))
				w.WriteHeader(StatusCode(Reason(r)))
			})}).Handler(&recorder{})
			assert.Equal(t, tt.body, serve(h, post(signedBody(t, productionKey, 0), "")).Code, "body-signed")
			assert.Equal(t, tt.header, serve(h, headerSigned(productionKey, time.Second, "", v3Body, "")).Code, "header-signed")
			for _, reason := range reasons {
				assert.True(t, errors.Is(reason, errFormatRefused), "%v", reason)
				assert.Equal(t, ReasonFormatRefused, codeOf(reason))
			}
		})
	}
	// A malformed body-signed callback is judged as such before its format.
	h := newVerifier(t, CallbackConfig{Formats: []CallbackFormat{HeaderSigned}}).Handler(&recorder{})
	w := serve(h, post([]byte(`{"no":"members"}`), ""))
	assert.Equal(t, 400, w.Code)
	assert.Contains(t, w.Body.String(), "signature missing")

	_, err := NewCallbackVerifier(CallbackConfig{Keyring: testKeyring(t), Formats: []CallbackFormat{"query"}})
	assert.EqualError(t, err, `middleware: CallbackConfig.Formats[0] "query" is neither "body" nor "header"`)
	_, err = NewCallbackVerifier(CallbackConfig{Keyring: testKeyring(t), Formats: []CallbackFormat{}})
	assert.ErrorContains(t, err, "CallbackConfig.Formats is empty")
}

// TestHeaderSignedThroughTheGuardOverTheWire sends v3 webhooks to a real
// server through the whole Guard.
func TestHeaderSignedThroughTheGuardOverTheWire(t *testing.T) {
	next := &recorder{}
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{loopbackSet(t, "production")}},
		RateLimit: &RateLimitConfig{Rate: 100, Burst: 100},
		Callback:  CallbackConfig{Keyring: testKeyring(t), Now: func() time.Time { return testNow }},
	})
	require.NoError(t, err)
	srv := newServer(t, g.Handler(next))
	send := func(skew time.Duration, body string, edit func(http.Header)) int {
		ts := signer.FormatTimestamp(testNow.Add(skew))
		r, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(body))
		require.NoError(t, err)
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set(SignatureHeader, signer.Sign(productionKey.APIKey, productionKey.PartnerID, ts))
		r.Header.Set(TimestampHeader, ts)
		if edit != nil {
			edit(r.Header)
		}
		resp, err := srv.Client().Do(r)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, 200, send(0, v3Body, nil), "genuine")
	assert.Equal(t, 200, send(0, v3Body, nil), "retry acknowledged")
	assert.Equal(t, 401, send(0, `{"status":"block"}`, nil), "pair with another body")
	assert.Equal(t, 401, send(-10*time.Minute, v3Body, nil), "stale")
	assert.Equal(t, 401, send(time.Second, v3Body, func(h http.Header) { h.Set(SignatureHeader, strings.Repeat("A", 43)+"=") }), "forged")
	assert.Equal(t, 400, send(2*time.Second, v3Body, func(h http.Header) { h.Del(TimestampHeader) }), "one header")
	assert.Equal(t, 400, send(3*time.Second, v3Body, func(h http.Header) { h.Add(SignatureHeader, "x") }), "repeated header")
	require.Equal(t, 1, next.count())
	assert.Equal(t, v3Body, string(next.bodies[0]))
	assert.Equal(t, HeaderSigned, next.seen[0].Format)
}
