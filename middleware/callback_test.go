package middleware

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// failingReader yields some bytes, then an error.
type failingReader struct{ left []byte }

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.left) == 0 {
		return 0, errors.New("connection reset")
	}
	n := copy(p, f.left)
	f.left = f.left[n:]
	return n, nil
}

// untouchable fails the test if the verifier reads it.
type untouchable struct{ t *testing.T }

func (u untouchable) Read([]byte) (int, error) {
	u.t.Error("the body was read although its declared length is over the limit")
	return 0, io.EOF
}

// padTo pads a signed body with white space to exactly n bytes.
func padTo(t *testing.T, body []byte, n int) []byte {
	require.LessOrEqual(t, len(body), n)
	return append(body, bytes.Repeat([]byte(" "), n-len(body))...)
}

func TestCallbackVerifierAnswers(t *testing.T) {
	const limit = 32 << 10
	valid := signedBody(t, productionKey, 0)
	sandboxValid := signedBody(t, sandboxKey, 0)
	ruby, err := signertest.SignCallbackWithTimestamp(productionKey, []byte(callbackBody), "2026-11-21 10:00:00 +0000")
	require.NoError(t, err)
	unix, err := signertest.SignCallbackWithTimestamp(productionKey, []byte(callbackBody), "1763719200")
	require.NoError(t, err)
	sig := signer.Sign(productionKey.APIKey, productionKey.PartnerID, signer.FormatTimestamp(testNow))
	ts := signer.FormatTimestamp(testNow)
	withFields := func(members string) []byte { return []byte(`{"ResultCode":"1012",` + members + `}`) }
	good := `"signature":"` + sig + `","timestamp":"` + ts + `"`

	tests := []struct {
		name        string
		req         func(t *testing.T) *http.Request
		status      int
		reachesNext bool
	}{
		// Method and media type.
		{"valid callback reaches the handler", func(*testing.T) *http.Request { return post(valid, "") }, 200, true},
		{"GET is not allowed", func(*testing.T) *http.Request {
			return httptest.NewRequest(http.MethodGet, "/", nil)
		}, 405, false},
		{"PUT with a valid body is not allowed", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.Method = http.MethodPut
			return r
		}, 405, false},
		{"no content type", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.Header.Del("Content-Type")
			return r
		}, 415, false},
		{"text/plain", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.Header.Set("Content-Type", "text/plain")
			return r
		}, 415, false},
		{"form encoded", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, 415, false},
		{"application/jsonp is not JSON", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.Header.Set("Content-Type", "application/jsonp")
			return r
		}, 415, false},
		{"two content types", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.Header.Add("Content-Type", "text/plain")
			return r
		}, 415, false},
		{"JSON with a charset parameter", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.Header.Set("Content-Type", "application/json; charset=utf-8")
			return r
		}, 200, true},
		{"JSON in capitals", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.Header.Set("Content-Type", "Application/JSON")
			return r
		}, 200, true},

		// Size.
		{"declared length over the limit is refused unread", func(t *testing.T) *http.Request {
			r := post(valid, "")
			r.Body = io.NopCloser(untouchable{t})
			r.ContentLength = limit + 1
			return r
		}, 413, false},
		{"body at exactly the limit", func(t *testing.T) *http.Request { return post(padTo(t, valid, limit), "") }, 200, true},
		{"body one byte over the limit with its length", func(t *testing.T) *http.Request { return post(padTo(t, valid, limit+1), "") }, 413, false},
		{"chunked body one byte over the limit", func(t *testing.T) *http.Request {
			r := post(padTo(t, valid, limit+1), "")
			r.ContentLength = -1
			return r
		}, 413, false},
		{"chunked body without length", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.ContentLength = -1
			r.TransferEncoding = []string{"chunked"}
			return r
		}, 200, true},
		{"declared length too large", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.ContentLength = int64(len(valid) + 10)
			return r
		}, 400, false},
		{"declared length too small", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.ContentLength = int64(len(valid) - 10)
			return r
		}, 400, false},
		{"reader fails half-way", func(*testing.T) *http.Request {
			r := post(valid, "")
			r.Body = io.NopCloser(&failingReader{left: valid[:len(valid)/2]})
			r.ContentLength = -1
			return r
		}, 400, false},

		// JSON shape.
		{"empty body", func(*testing.T) *http.Request { return post(nil, "") }, 400, false},
		{"byte order mark", func(*testing.T) *http.Request { return post(append([]byte("\xef\xbb\xbf"), valid...), "") }, 400, false},
		{"trailing data after the object", func(*testing.T) *http.Request { return post(append(append([]byte{}, valid...), "{}"...), "") }, 400, false},
		{"trailing white space is fine", func(*testing.T) *http.Request { return post(append(append([]byte{}, valid...), " \n"...), "") }, 200, true},
		{"truncated JSON", func(*testing.T) *http.Request { return post(valid[:len(valid)-1], "") }, 400, false},
		{"array", func(*testing.T) *http.Request { return post([]byte(`[`+string(valid)+`]`), "") }, 400, false},
		{"JSON string", func(*testing.T) *http.Request { return post([]byte(`"signature"`), "") }, 400, false},
		{"nesting over encoding/json's limit", func(*testing.T) *http.Request {
			return post(withFields(good+`,"deep":`+strings.Repeat("[", 10001)+strings.Repeat("]", 10001)), "")
		}, 400, false},
		{"invalid UTF-8 in another member passes as encoding/json would", func(*testing.T) *http.Request {
			b, err := signertest.SignCallback(productionKey, []byte("{\"FullName\":\"\xff\xfe\"}"), testNow)
			require.NoError(t, err)
			return post(b, "")
		}, 200, true},
		{"invalid UTF-8 in the signature", func(*testing.T) *http.Request {
			return post(withFields(`"signature":"`+sig[:40]+"\xff\xff\xff=\",\"timestamp\":\""+ts+`"`), "")
		}, 401, false},
		{"null signature", func(*testing.T) *http.Request { return post(withFields(`"signature":null,"timestamp":"`+ts+`"`), "") }, 400, false},
		{"number signature", func(*testing.T) *http.Request { return post(withFields(`"signature":12,"timestamp":"`+ts+`"`), "") }, 400, false},
		{"array signature", func(*testing.T) *http.Request {
			return post(withFields(`"signature":["`+sig+`"],"timestamp":"`+ts+`"`), "")
		}, 400, false},
		{"object timestamp", func(*testing.T) *http.Request { return post(withFields(`"signature":"`+sig+`","timestamp":{}`), "") }, 400, false},
		{"number timestamp", func(*testing.T) *http.Request {
			return post(withFields(`"signature":"`+sig+`","timestamp":1763719200`), "")
		}, 400, false},
		{"missing signature", func(*testing.T) *http.Request { return post(withFields(`"timestamp":"`+ts+`"`), "") }, 400, false},
		{"missing timestamp", func(*testing.T) *http.Request { return post(withFields(`"signature":"`+sig+`"`), "") }, 400, false},
		{"signature twice", func(*testing.T) *http.Request { return post(withFields(good+`,"signature":"`+sig+`"`), "") }, 400, false},
		{"timestamp twice", func(*testing.T) *http.Request { return post(withFields(good+`,"timestamp":"`+ts+`"`), "") }, 400, false},
		{"signature twice, once escaped", func(*testing.T) *http.Request { return post(withFields(good+`,"sig\u006eature":"x"`), "") }, 400, false},
		{"escaped member names are understood", func(*testing.T) *http.Request {
			return post(withFields(`"sig\u006eature":"`+sig+`","t\u0069mestamp":"`+ts+`"`), "")
		}, 200, true},
		{"signature only in a nested object", func(*testing.T) *http.Request {
			return post(withFields(`"PartnerParams":{"signature":"`+sig+`","timestamp":"`+ts+`"}`), "")
		}, 400, false},
		{"Signature in other case is another member", func(*testing.T) *http.Request {
			return post(withFields(`"Signature":"`+sig+`","timestamp":"`+ts+`"`), "")
		}, 400, false},
		{"a case variant beside the genuine members, which a struct decode would read", func(*testing.T) *http.Request {
			return post(withFields(good+`,"Signature":"AAAA"`), "")
		}, 400, false},
		{"a case variant with a long s, escaped", func(*testing.T) *http.Request {
			return post(withFields(good+`,"time\u017ftamp":"1999"`), "")
		}, 400, false},

		// Timestamp.
		{"unparseable timestamp", func(*testing.T) *http.Request {
			b, err := signertest.SignCallbackWithTimestamp(productionKey, []byte(`{}`), "21/11/2026 10:00")
			require.NoError(t, err)
			return post(b, "")
		}, 400, false},
		{"Ruby style timestamp", func(*testing.T) *http.Request { return post(ruby, "") }, 200, true},
		{"stale timestamp", func(*testing.T) *http.Request {
			return post(signedBody(t, productionKey, -5*time.Minute-time.Millisecond), "")
		}, 401, false},
		{"far-future timestamp", func(*testing.T) *http.Request { return post(signedBody(t, productionKey, 24*time.Hour), "") }, 401, false},
		{"just inside the tolerance, past", func(*testing.T) *http.Request { return post(signedBody(t, productionKey, -5*time.Minute), "") }, 200, true},
		{"just inside the tolerance, future", func(*testing.T) *http.Request { return post(signedBody(t, productionKey, 5*time.Minute), "") }, 200, true},
		{"just outside the tolerance, future", func(*testing.T) *http.Request {
			return post(signedBody(t, productionKey, 5*time.Minute+time.Millisecond), "")
		}, 401, false},
		{"unix seconds a year old are stale", func(*testing.T) *http.Request { return post(unix, "") }, 401, false},

		// Signature and keys.
		{"forged signature", func(*testing.T) *http.Request {
			return post(withFields(`"signature":"`+strings.Repeat("A", 43)+`=","timestamp":"`+ts+`"`), "")
		}, 401, false},
		{"not base64", func(*testing.T) *http.Request {
			return post(withFields(`"signature":"forged","timestamp":"`+ts+`"`), "")
		}, 401, false},
		{"empty signature", func(*testing.T) *http.Request { return post(withFields(`"signature":"","timestamp":"`+ts+`"`), "") }, 401, false},
		{"someone else's key", func(*testing.T) *http.Request { return post(signedBody(t, strangerKey, 0), "") }, 401, false},
		{"retired key", func(*testing.T) *http.Request { return post(signedBody(t, retiredKey, 0), "") }, 401, false},
		{"key not valid yet", func(*testing.T) *http.Request { return post(signedBody(t, futureKey, 0), "") }, 401, false},
		{"signature for another timestamp", func(*testing.T) *http.Request {
			other := signer.Sign(productionKey.APIKey, productionKey.PartnerID, signer.FormatTimestamp(testNow.Add(time.Second)))
			return post(withFields(`"signature":"`+other+`","timestamp":"`+ts+`"`), "")
		}, 401, false},
		{"same instant spelled differently", func(*testing.T) *http.Request {
			return post(withFields(`"signature":"`+sig+`","timestamp":"2026-11-21T10:00:00Z"`), "")
		}, 401, false},

		// Environment binding.
		{"sandbox key from a production address", func(*testing.T) *http.Request { return post(sandboxValid, "production") }, 401, false},
		{"production key from a sandbox address", func(*testing.T) *http.Request { return post(valid, "sandbox") }, 401, false},
		{"production key from a production address", func(*testing.T) *http.Request { return post(valid, "production") }, 200, true},
		{"sandbox key from a sandbox address", func(*testing.T) *http.Request { return post(sandboxValid, "sandbox") }, 200, true},
		{"another set binds no environment", func(*testing.T) *http.Request { return post(sandboxValid, "office") }, 200, true},
	}
	require.GreaterOrEqual(t, len(tests), 40)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := &recorder{}
			h := newVerifier(t, CallbackConfig{MaxBodyBytes: limit}).Handler(next)
			r := tt.req(t)
			sent := sentBytes(r)
			w := serve(h, r)
			assert.Equal(t, tt.status, w.Code, "body: %s", w.Body)
			assert.Equal(t, tt.reachesNext, next.count() == 1)
			if tt.reachesNext {
				require.Len(t, next.bodies, 1)
				assert.Equal(t, sent, next.bodies[0], "next reads the exact bytes that arrived")
				assert.Equal(t, sent, next.getBody[0], "GetBody yields them again")
				assert.Equal(t, int64(len(sent)), next.lengths[0])
				assert.Equal(t, "handled", w.Body.String())
			} else {
				assert.Equal(t, "text/plain; charset=utf-8", w.Header().Get("Content-Type"))
				assert.Less(t, w.Body.Len(), 100, "the reason is short")
				assert.NotContains(t, w.Body.String(), productionKey.APIKey)
				assert.NotContains(t, w.Body.String(), sig)
			}
			if tt.status == 405 {
				assert.Equal(t, "POST", w.Header().Get("Allow"))
			}
		})
	}
}
