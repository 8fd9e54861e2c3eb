// Command client calls Smile ID with an http.Client that authenticates its
// requests (signer.Transport): it submits an Enhanced KYC job (a v2
// endpoint, signed in the headers), asks for the job's status (/v1/job_status,
// signed in the body) and verifies the signature on the answer, and runs
// Enhanced KYC on v3 (a token from /v3/token, an answer signed in its
// headers). It runs
// against a local fake Smile ID over TLS (fakesmileid.go), so it needs no
// account:
//
//	go run ./examples/client
//
// For the real thing, build the client with newClient(key, nil, nil) and
// use https://testapi.smileidentity.com or https://api.smileidentity.com.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/smileguard/smileguard/signer"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run(ctx, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// run plays the example against a fresh fake Smile ID, printing to out.
func run(ctx context.Context, out io.Writer) error {
	key := signer.Key{ID: "sandbox", PartnerID: "085", APIKey: rand.Text(), Environment: signer.Sandbox}
	smileID := newFakeSmileID(key)
	defer smileID.Close()
	client := newClient(key, smileID.Client().Transport, []string{strings.TrimPrefix(smileID.URL, "https://")})

	jobID, err := submitJob(ctx, client, smileID.URL, map[string]any{
		"country": "NG", "id_type": "NIN", "id_number": "00000000000",
		"callback_url":   "https://example.com/smileid/callback",
		"partner_params": map[string]string{"job_id": "job-1", "user_id": "user-1"},
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "v2 /v2/verify_async, signed in the headers:    accepted, smile_job_id %s\n", jobID)

	status, err := getJobStatus(ctx, client, smileID.URL, "user-1", "job-1")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "v1 /v1/job_status, signed in the body:         job_complete=%t job_success=%t code=%s, answer's signature verified\n",
		status.JobComplete, status.JobSuccess, status.Code)

	for _, job := range []string{"job-2", "job-3"} {
		result, err := enhancedKYC(ctx, client, smileID.URL, map[string]any{
			"country": "NG", "id_type": "NIN", "id_number": "00000000000", "job_id": job, "user_id": "user-1",
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "v3 /v3/enhanced_kyc/sync, with a token:        %s %s, answer's signature verified\n", result.Status, result.Message)
	}
	fmt.Fprintf(out, "v3 tokens fetched from /v3/token:              %d\n", smileID.tokenFetches())

	smileID.forge.Store(true)
	_, err = getJobStatus(ctx, client, smileID.URL, "user-1", "job-1")
	if !errors.Is(err, signer.ErrInvalidResponseSignature) {
		return fmt.Errorf("client: an answer signed with the wrong key was not refused: %v", err)
	}
	fmt.Fprintln(out, "v1 /v1/job_status, answered by an impostor:   refused (signer.ErrInvalidResponseSignature)")
	_, err = enhancedKYC(ctx, client, smileID.URL, map[string]any{"job_id": "job-4"})
	if !errors.Is(err, signer.ErrInvalidResponseSignature) {
		return fmt.Errorf("client: a v3 answer signed with the wrong key was not refused: %v", err)
	}
	fmt.Fprintln(out, "v3 /v3/enhanced_kyc/sync, by an impostor:     refused (signer.ErrInvalidResponseSignature)")
	return nil
}
