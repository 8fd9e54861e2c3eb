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
		// A millisecond on: an answer stamped with the request's own
		// millisecond is refused as a reflection of the request.
		ts := signer.FormatTimestamp(time.Now().Add(time.Millisecond))
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

// ExampleTransport_v3 calls a v3 endpoint: the Transport gets a token from
// /v3/token with the key, keeps it until shortly before it expires, and
// sends it as SmileID-Token; the API key goes nowhere else. With
// VerifyResponses, the signature of the answer's Response-Signature and
// Response-Timestamp headers is checked too. A local stand-in for the
// sandbox takes its place here, so that the example runs.
func ExampleTransport_v3() {
	key := signer.Key{ID: "sandbox", PartnerID: "085", APIKey: "sandbox-api-key", Environment: signer.Sandbox}

	const token = "eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjQxMDI0NDQ4MDB9.c2lnbmF0dXJl" // exp: 2100
	sandbox := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/v3/token":
			fmt.Println("sandbox: token for partner", r.Header.Get("SmileID-Partner-ID"),
				"with the key:", r.Header.Get("SmileID-API-Key") == key.APIKey)
			fmt.Fprintf(w, `{"token":%q}`, token)
		case r.Header.Get("SmileID-Token") != token:
			w.WriteHeader(http.StatusUnauthorized)
		default:
			ts := signer.FormatTimestamp(time.Now())
			w.Header().Set("Response-Timestamp", ts)
			w.Header().Set("Response-Signature", signer.Sign(key.APIKey, key.PartnerID, ts))
			fmt.Fprint(w, `{"status":"clear","message":"Verified"}`)
		}
	}))
	defer sandbox.Close()

	client := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &signer.Transport{
			Base:            sandbox.Client().Transport,                            // production: nil
			Hosts:           []string{strings.TrimPrefix(sandbox.URL, "https://")}, // production: nil
			Key:             key,
			VerifyResponses: true,
		},
	}
	for _, job := range []string{"job-1", "job-2"} {
		resp, err := client.Post(sandbox.URL+"/v3/enhanced_kyc/sync", "application/json",
			strings.NewReader(`{"country":"NG","id_type":"NIN","id_number":"00000000000","job_id":"`+job+`"}`))
		if err != nil {
			fmt.Println(err)
			return
		}
		var answer struct{ Status, Message string }
		err = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(job, resp.StatusCode, answer.Status, answer.Message)
	}
	// Output:
	// sandbox: token for partner 85 with the key: true
	// job-1 200 clear Verified
	// job-2 200 clear Verified
}
