package signer_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/signer"
)

// ExampleTransport builds an http.Client that signs for Smile ID's sandbox
// and asks for a job's status. In production, Base and Hosts stay nil: the
// client then signs for testapi.smileidentity.com (the key's environment)
// and nothing else:
//
//	client := &http.Client{Transport: &signer.Transport{Key: key, VerifyResponses: true}}
//
// Here a local stand-in for the sandbox takes its place, so that the example
// runs.
func ExampleTransport() {
	key := signer.Key{ID: "sandbox", PartnerID: "085", APIKey: "sandbox-api-key", Environment: signer.Sandbox}

	sandbox := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			PartnerID string `json:"partner_id"`
			Timestamp string `json:"timestamp"`
			Signature string `json:"signature"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		fmt.Println("sandbox: signature verifies:", signer.Verify(key.APIKey, req.PartnerID, req.Timestamp, req.Signature))
		ts := signer.FormatTimestamp(time.Now())
		fmt.Fprintf(w, `{"job_complete":true,"job_success":true,"code":"1012","timestamp":%q,"signature":%q}`,
			ts, signer.Sign(key.APIKey, key.PartnerID, ts))
	}))
	defer sandbox.Close()

	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &signer.Transport{
			Base:            sandbox.Client().Transport,                            // production: nil
			Hosts:           []string{strings.TrimPrefix(sandbox.URL, "https://")}, // production: nil
			Key:             key,
			Limiter:         rate.NewLimiter(10, 10), // at most 10 requests a second
			VerifyResponses: true,                    // refuse a job status Smile ID did not sign
		},
	}
	resp, err := client.Post(sandbox.URL+"/v1/job_status", "application/json",
		strings.NewReader(`{"user_id":"user-1","job_id":"job-1","image_links":false,"history":false}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	var status struct {
		JobComplete bool   `json:"job_complete"`
		JobSuccess  bool   `json:"job_success"`
		Code        string `json:"code"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&status); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.StatusCode, status.JobComplete, status.JobSuccess, status.Code)
	// Output:
	// sandbox: signature verifies: true
	// 200 true true 1012
}
