package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/smileguard/smileguard/signer"
)

// fakeSmileID is a local stand-in for Smile ID's API over TLS, so that the
// example runs anywhere. It checks signatures as Smile ID does (in the
// smileid-* headers on v2, in the body on v1) and signs its job_status
// answers with key, unless forge is set: then it plays an impostor that
// does not know the key.
type fakeSmileID struct {
	*httptest.Server
	key   signer.Key
	forge atomic.Bool
}

// freshness is how far a request's timestamp may be from the fake's clock.
const freshness = 5 * time.Minute

func newFakeSmileID(key signer.Key) *fakeSmileID {
	f := &fakeSmileID{key: key}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/verify_async", f.verifyAsync)
	mux.HandleFunc("POST /v1/job_status", f.jobStatus)
	f.Server = httptest.NewTLSServer(mux)
	return f
}

// authorized reports whether a partner id, timestamp and signature are the
// key's, and the timestamp is fresh.
func (f *fakeSmileID) authorized(partnerID, timestamp, signature string) bool {
	at, err := signer.ParseTimestamp(timestamp)
	if err != nil || time.Since(at).Abs() > freshness {
		return false
	}
	return partnerID == f.key.PartnerID && signer.Verify(f.key.APIKey, partnerID, timestamp, signature)
}

// unauthorized answers as Smile ID answers a request it cannot verify.
func unauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "2205", "error": "You're not authorized to do that"})
}

// verifyAsync is Enhanced KYC, asynchronous: a v2 endpoint, signed in the
// headers.
func (f *fakeSmileID) verifyAsync(w http.ResponseWriter, r *http.Request) {
	h := r.Header
	if !f.authorized(h.Get("Smileid-Partner-Id"), h.Get("Smileid-Timestamp"), h.Get("Smileid-Request-Signature")) {
		unauthorized(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"success": true, "smile_job_id": "0000000101"})
}

// jobStatus is a v1 endpoint, signed in the body; its answer is signed too.
func (f *fakeSmileID) jobStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PartnerID string `json:"partner_id"`
		Timestamp string `json:"timestamp"`
		Signature string `json:"signature"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil ||
		!f.authorized(req.PartnerID, req.Timestamp, req.Signature) {
		unauthorized(w)
		return
	}
	timestamp := signer.FormatTimestamp(time.Now())
	apiKey := f.key.APIKey
	if f.forge.Load() {
		apiKey = "the impostor's guess"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"timestamp": timestamp, "signature": signer.Sign(apiKey, f.key.PartnerID, timestamp),
		"job_complete": true, "job_success": true, "code": "1012",
		"result": map[string]string{"ResultCode": "1012", "ResultText": "ID Number Validated"},
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
