package middleware

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/smileguard/smileguard/signer"
)

// FuzzHeaderSigned sends arbitrary signature headers and bodies through the
// verifier. The oracle: it never panics and never answers 5xx, and it
// admits a request only if the headers came once each, the body is exactly
// one JSON object (encoding/json's verdict), the timestamp parses and is
// fresh, and the signature is a key's own over that timestamp (the partner
// id as configured or without its leading zeros), as signer.Verify judges.
func FuzzHeaderSigned(f *testing.F) {
	ts := signer.FormatTimestamp(testNow)
	good := signer.Sign(zeroPaddedKey.APIKey, "0042", ts)
	trimmed := signer.Sign(zeroPaddedKey.APIKey, "42", ts)
	for _, seed := range []struct {
		signature, timestamp string
		body                 string
		sigTwice, tsTwice    bool
	}{
		{good, ts, v3Body, false, false},                              // a genuine v3 webhook
		{trimmed, ts, `{}`, false, false},                             // the partner id without its zeros
		{good, ts, `{"signature":"x"}`, false, false},                 // the body's members are not consulted
		{good, ts, `[]`, false, false},                                // not an object
		{good, ts, `{} {}`, false, false},                             // trailing data
		{good, ts, "\xef\xbb\xbf{}", false, false},                    // a byte order mark
		{good, ts, v3Body, true, false},                               // the signature header twice
		{good, ts, v3Body, false, true},                               // the timestamp header twice
		{"", ts, v3Body, false, false},                                // an empty signature
		{good, "", v3Body, false, false},                              // an empty timestamp
		{good + "=", ts, v3Body, false, false},                        // one character too many
		{good[:43] + "B", ts, v3Body, false, false},                   // non-zero padding bits
		{good, "2026-11-21T10:00:00.000+00:00", v3Body, false, false}, // the same instant spelled otherwise
		{good, "1763719200", v3Body, false, false},                    // unix seconds, stale
		{good, ts + "\x00", v3Body, false, false},                     // a control character
	} {
		f.Add(seed.signature, seed.timestamp, []byte(seed.body), seed.sigTwice, seed.tsTwice)
	}
	ring, err := signer.NewKeyring(zeroPaddedKey, sandboxKey)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, signature, timestamp string, body []byte, sigTwice, tsTwice bool) {
		v := newVerifier(t, CallbackConfig{Keyring: ring, Replay: nopReplayStore{}})
		next := &recorder{}
		r := post(body, "")
		r.Header[SignatureHeader] = []string{signature}
		r.Header[TimestampHeader] = []string{timestamp}
		if sigTwice {
			r.Header[SignatureHeader] = append(r.Header[SignatureHeader], signature)
		}
		if tsTwice {
			r.Header[TimestampHeader] = append(r.Header[TimestampHeader], timestamp)
		}
		w := serve(v.Handler(next), r)
		if w.Code >= 500 {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		accepted := w.Code == http.StatusOK && next.count() == 1
		if !accepted {
			if next.count() != 0 {
				t.Fatalf("status %d, yet the handler ran", w.Code)
			}
			return
		}
		if sigTwice || tsTwice {
			t.Fatal("admitted with a repeated header")
		}
		if !json.Valid(body) || bytes.TrimLeft(body, " \t\r\n")[0] != '{' {
			t.Fatalf("admitted a body that is not one JSON object: %q", body)
		}
		at, err := signer.ParseTimestamp(timestamp)
		if err != nil || at.Sub(testNow).Abs() > DefaultTolerance {
			t.Fatalf("admitted timestamp %q (%v, %v)", timestamp, at, err)
		}
		if !signer.Verify(zeroPaddedKey.APIKey, "0042", timestamp, signature) &&
			!signer.Verify(zeroPaddedKey.APIKey, "42", timestamp, signature) &&
			!signer.Verify(sandboxKey.APIKey, sandboxKey.PartnerID, timestamp, signature) {
			t.Fatalf("admitted a signature no key made: %q over %q", signature, timestamp)
		}
		if !bytes.Equal(next.bodies[0], body) {
			t.Fatal("the handler did not read the exact bytes")
		}
	})
}
