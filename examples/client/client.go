package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/signer"
)

// newClient returns an http.Client that authenticates every request bound
// for Smile ID with key (a signature on v1 and v2, a token on v3),
// verifies the signature of Smile ID's signed answers, and stays under ten
// requests a second. In production base and
// hosts are nil: the client then signs for the key's environment
// (testapi.smileidentity.com or api.smileidentity.com) and nothing else,
// over the default transport.
func newClient(key signer.Key, base http.RoundTripper, hosts []string) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &signer.Transport{
			Base:            base,
			Hosts:           hosts,
			Key:             key,
			Limiter:         rate.NewLimiter(10, 10),
			VerifyResponses: true, // refuse a signed answer whose signature does not verify
		},
	}
}

// kycResult is what /v3/enhanced_kyc/sync answers.
type kycResult struct {
	JobID   string `json:"job_id"`
	Status  string `json:"status"` // clear, block, attention or error
	Message string `json:"message"`
}

// enhancedKYC runs an Enhanced KYC check synchronously on v3: the
// Transport gets a token from /v3/token (once, then as it expires) and
// sends it as SmileID-Token; the answer is signed in its headers.
func enhancedKYC(ctx context.Context, client *http.Client, baseURL string, job map[string]any) (kycResult, error) {
	var result kycResult
	err := postJSON(ctx, client, baseURL+"/v3/enhanced_kyc/sync", job, &result)
	return result, err
}

// submitJob starts an Enhanced KYC job (v2: signed in the headers) and
// returns Smile ID's job id.
func submitJob(ctx context.Context, client *http.Client, baseURL string, job map[string]any) (string, error) {
	var answer struct {
		Success    bool   `json:"success"`
		SmileJobID string `json:"smile_job_id"`
	}
	if err := postJSON(ctx, client, baseURL+"/v2/verify_async", job, &answer); err != nil {
		return "", err
	}
	if !answer.Success {
		return "", fmt.Errorf("client: Smile ID did not accept the job")
	}
	return answer.SmileJobID, nil
}

// jobStatus is what /v1/job_status answers.
type jobStatus struct {
	JobComplete bool   `json:"job_complete"`
	JobSuccess  bool   `json:"job_success"`
	Code        string `json:"code"`
}

// getJobStatus asks for a job's status (v1: partner_id, timestamp and
// signature go in the body; the Transport adds them).
func getJobStatus(ctx context.Context, client *http.Client, baseURL, userID, jobID string) (jobStatus, error) {
	var status jobStatus
	err := postJSON(ctx, client, baseURL+"/v1/job_status",
		map[string]any{"user_id": userID, "job_id": jobID, "image_links": false, "history": false}, &status)
	return status, err
}

// postJSON posts in as JSON and decodes a 200 answer into out.
func postJSON(ctx context.Context, client *http.Client, url string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return fmt.Errorf("client: %s answered %s", req.URL.Path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
