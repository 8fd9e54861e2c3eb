package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Addresses the senders play. The first two are Smile ID's
// (allowlist.SmileIDProduction, allowlist.SmileIDSandbox).
const (
	smileIDProduction  = "52.213.46.74"
	smileIDProduction2 = "44.230.128.108" // the flood's, so that it spends no other row's tokens
	smileIDSandbox     = "35.166.227.53"
	stranger           = "198.51.100.23"
)

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
	play        func(ctx context.Context, d *demo) (status int, err error)
}

// scenarios returns the demo's rows, in the order they are played: a
// retry and a replay follow the genuine callback they reuse.
func scenarios(d *demo) []scenario {
	genuine := d.sign(d.production, callbackBody, 0)
	tampered := bytes.Replace(genuine, []byte(`"ResultCode":"1012"`), []byte(`"ResultCode":"1022"`), 1)
	fromProduction := func(body []byte) func(context.Context, *demo) (int, error) {
		return func(ctx context.Context, d *demo) (int, error) {
			return d.send(ctx, request{from: smileIDProduction, body: body})
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
			func(ctx context.Context, d *demo) (int, error) {
				return d.send(ctx, request{from: smileIDSandbox, body: d.sign(d.sandbox, callbackBody, 0)})
			}},
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
		{"a spoofed X-Forwarded-For, straight from an untrusted peer", http.StatusForbidden, false,
			func(ctx context.Context, d *demo) (int, error) {
				return d.send(ctx, request{direct: true, xff: smileIDProduction, body: d.sign(d.production, callbackBody, 0)})
			}},
		{"a genuine callback from an address that is not Smile ID's", http.StatusForbidden, false,
			func(ctx context.Context, d *demo) (int, error) {
				return d.send(ctx, request{from: stranger, body: d.sign(d.production, callbackBody, 0)})
			}},
		{"an oversized body (3 MiB)", http.StatusRequestEntityTooLarge, false,
			fromProduction(oversized())},
		{"GET instead of POST", http.StatusMethodNotAllowed, false,
			func(ctx context.Context, d *demo) (int, error) {
				return d.send(ctx, request{method: http.MethodGet, from: smileIDProduction})
			}},
		{"a body that is not JSON", http.StatusUnsupportedMediaType, false,
			func(ctx context.Context, d *demo) (int, error) {
				return d.send(ctx, request{from: smileIDProduction, contentType: "text/plain", body: []byte("ResultCode=1012")})
			}},
		{fmt.Sprintf("a flood of %d requests from one address (the last answer)", floodSize), http.StatusTooManyRequests, false,
			func(ctx context.Context, d *demo) (status int, err error) {
				for i := 0; i < floodSize && err == nil; i++ {
					status, err = d.send(ctx, request{from: smileIDProduction2, body: []byte(`{}`)})
				}
				return status, err
			}},
	}
}

// oversized returns a JSON object of 3 MiB, over the guard's default
// MaxBodyBytes of 2 MiB.
func oversized() []byte {
	return []byte(`{"FullData":"` + strings.Repeat("A", 3<<20) + `"}`)
}
