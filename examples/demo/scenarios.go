package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/smileguard/smileguard/middleware"
)

// Addresses the senders play. The first two are Smile ID's
// (allowlist.SmileIDProduction, allowlist.SmileIDSandbox).
const (
	smileIDProduction  = "52.213.46.74"
	smileIDProduction2 = "44.230.128.108" // the flood's, so that it spends no other row's tokens
	smileIDSandbox     = "35.166.227.53"
	stranger           = "198.51.100.23"
)

// v3Body is a Smile ID v3 webhook: snake_case, signed in its headers.
const v3Body = `{"job_id":"job_01jdemo0000000000000000001","user_id":"user_01jdemo000000000000000001","status":"clear",` +
	`"message":"Verified","product":"enhanced_kyc","partner_params":{"order":"demo-1"},"created_at":"2026-11-21T10:00:00.000Z"}`

// callbackBody is a Smile ID callback as it arrives, before signing.
const callbackBody = `{"SmileJobID":"0000057721","PartnerParams":{"job_id":"demo-job-1","user_id":"demo-user-1","job_type":5},` +
	`"ResultType":"ID Verification","ResultText":"ID Number Validated","ResultCode":"1012","IsFinalResult":"true",` +
	`"Country":"NG","IDType":"NIN","FullName":"Ada Lovelace"}`

// floodSize is how many requests the flood sends at once: well over the
// burst, so the last ones are over the limit.
const floodSize = rateBurst + 10

// A scenario is one row of the demo: what is sent, and what the guard must
// answer.
type scenario struct {
	name        string
	wantStatus  int
	wantHandled bool // the callback handler runs
	play        func(ctx context.Context, d *demo) (status int, reason string, err error)
}

// scenarios returns the demo's rows, in the order they are played: a
// retry and a replay follow the genuine callback they reuse.
func scenarios(d *demo) []scenario {
	genuine := d.sign(d.production, callbackBody, 0)
	tampered := bytes.Replace(genuine, []byte(`"ResultCode":"1012"`), []byte(`"ResultCode":"1022"`), 1)
	v3 := d.signHeaders(d.production, 0)
	// The v3 pair moved into body members, beside a body of the
	// attacker's choosing.
	moved := []byte(`{"job_id":"job_01jdemo0000000000000000001","status":"clear","signature":"` +
		v3.Get(middleware.SignatureHeader) + `","timestamp":"` + v3.Get(middleware.TimestampHeader) + `"}`)
	fromProduction := func(body []byte) func(context.Context, *demo) (int, string, error) {
		return func(ctx context.Context, d *demo) (int, string, error) {
			return d.send(ctx, request{from: smileIDProduction, body: body})
		}
	}
	v3FromProduction := func(body string, headers http.Header) func(context.Context, *demo) (int, string, error) {
		return func(ctx context.Context, d *demo) (int, string, error) {
			return d.send(ctx, request{from: smileIDProduction, body: []byte(body), headers: headers})
		}
	}
	guessedKey := d.production
	guessedKey.APIKey = "a-guessed-key"

	return []scenario{
		{"Smile ID posts a genuine production callback", http.StatusOK, true,
			fromProduction(genuine)},
		{"Smile ID retries the same delivery", http.StatusOK, false,
			fromProduction(genuine)},
		{"Smile ID posts a genuine sandbox callback", http.StatusOK, true,
			func(ctx context.Context, d *demo) (int, string, error) {
				return d.send(ctx, request{from: smileIDSandbox, body: d.sign(d.sandbox, callbackBody, 0)})
			}},
		{"Smile ID posts a genuine v3 webhook (signed in headers)", http.StatusOK, true,
			v3FromProduction(v3Body, v3)},
		{"the genuine signature replayed with a tampered body", http.StatusUnauthorized, false,
			fromProduction(tampered)},
		{"a forged signature (made with a guessed key)", http.StatusUnauthorized, false,
			fromProduction(d.sign(guessedKey, callbackBody, 0))},
		{"a stale timestamp (signed 10 minutes ago)", http.StatusUnauthorized, false,
			fromProduction(d.sign(d.production, callbackBody, -10*time.Minute))},
		{"a far-future timestamp (signed 10 minutes ahead)", http.StatusUnauthorized, false,
			fromProduction(d.sign(d.production, callbackBody, 10*time.Minute))},
		{"a sandbox-signed callback from a production address", http.StatusUnauthorized, false,
			fromProduction(d.sign(d.sandbox, callbackBody, 0))},
		{"v3: a forged Response-Signature header", http.StatusUnauthorized, false,
			v3FromProduction(v3Body, d.signHeaders(guessedKey, 0))},
		{"v3: a stale Response-Timestamp header", http.StatusUnauthorized, false,
			v3FromProduction(v3Body, d.signHeaders(d.production, -10*time.Minute))},
		{"v3: the header pair replayed with another body", http.StatusUnauthorized, false,
			v3FromProduction(`{"job_id":"job_01jdemo0000000000000000001","status":"block"}`, v3)},
		{"v3: the header pair moved into body members", http.StatusUnauthorized, false,
			fromProduction(moved)},
		{"a spoofed X-Forwarded-For, straight from an untrusted peer", http.StatusForbidden, false,
			func(ctx context.Context, d *demo) (int, string, error) {
				return d.send(ctx, request{direct: true, xff: smileIDProduction, body: d.sign(d.production, callbackBody, 0)})
			}},
		{"a genuine callback from an address that is not Smile ID's", http.StatusForbidden, false,
			func(ctx context.Context, d *demo) (int, string, error) {
				return d.send(ctx, request{from: stranger, body: d.sign(d.production, callbackBody, 0)})
			}},
		{"an oversized body (3 MiB)", http.StatusRequestEntityTooLarge, false,
			fromProduction(oversized())},
		{"GET instead of POST", http.StatusMethodNotAllowed, false,
			func(ctx context.Context, d *demo) (int, string, error) {
				return d.send(ctx, request{method: http.MethodGet, from: smileIDProduction})
			}},
		{"a body sent as Content-Type: text/plain", http.StatusUnsupportedMediaType, false,
			func(ctx context.Context, d *demo) (int, string, error) {
				return d.send(ctx, request{from: smileIDProduction, contentType: "text/plain", body: []byte("ResultCode=1012")})
			}},
		{fmt.Sprintf("a flood of %d requests from one address (the last answer)", floodSize), http.StatusTooManyRequests, false,
			func(ctx context.Context, d *demo) (status int, reason string, err error) {
				for i := 0; i < floodSize && err == nil; i++ {
					status, reason, err = d.send(ctx, request{from: smileIDProduction2, body: []byte(`{}`)})
				}
				return status, reason, err
			}},
	}
}

// oversized returns a JSON object of 3 MiB, over the guard's default
// MaxBodyBytes of 2 MiB.
func oversized() []byte {
	return []byte(`{"FullData":"` + strings.Repeat("A", 3<<20) + `"}`)
}
