package main

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smileguard/smileguard/signer"
)

// fakeSmileID is a local stand-in for Smile ID's API over TLS, so that the
// example runs anywhere. It checks signatures as Smile ID does (in the
// smileid-* headers on v2, in the body on v1), hands out v3 tokens for the
// key's credentials and takes them on v3 endpoints, and signs its
// job_status and v3 sync answers with key, unless forge is set: then it
// plays an impostor that does not know the key.
type fakeSmileID struct {
	*httptest.Server
	key   signer.Key
	forge atomic.Bool

	mu      sync.Mutex
	tokens  map[string]bool // issued
	fetches int
}

// tokenLifetime is how long the fake's v3 tokens last.
const tokenLifetime = 15 * time.Minute

// freshness is how far a request's timestamp may be from the fake's clock.
const freshness = 5 * time.Minute

func newFakeSmileID(key signer.Key) *fakeSmileID {
	f := &fakeSmileID{key: key, tokens: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/verify_async", f.verifyAsync)
	mux.HandleFunc("POST /v1/job_status", f.jobStatus)
	mux.HandleFunc("POST /v3/token", f.token)
	mux.HandleFunc("POST /v3/enhanced_kyc/sync", f.enhancedKYCSync)
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
	// A millisecond on: an answer stamped with the request's own
	// millisecond carries the request's own signature, which the client
	// refuses as a reflection. Over loopback, the answer can come that fast.
	timestamp := signer.FormatTimestamp(time.Now().Add(time.Millisecond))
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

// token is v3's POST /v3/token: the partner id without leading zeros and
// the API key in headers, a short-lived JWT back.
func (f *fakeSmileID) token(w http.ResponseWriter, r *http.Request) {
	apiKey := r.Header.Get("SmileID-API-Key")
	if r.Header.Get("SmileID-Partner-ID") != signer.TrimPartnerID(f.key.PartnerID) ||
		subtle.ConstantTimeCompare([]byte(apiKey), []byte(f.key.APIKey)) != 1 {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Invalid partner id or API key"})
		return
	}
	payload, _ := json.Marshal(map[string]any{"partner_id": f.key.PartnerID, "exp": time.Now().Add(tokenLifetime).Unix()})
	token := "eyJhbGciOiJIUzI1NiJ9." + base64.RawURLEncoding.EncodeToString(payload) + "." + rand.Text()
	f.mu.Lock()
	f.tokens[token] = true
	f.fetches++
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}

// tokenFetches returns how many tokens the fake has handed out.
func (f *fakeSmileID) tokenFetches() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches
}

// enhancedKYCSync is v3 Enhanced KYC, synchronous: it takes a token, and
// signs its answer in the Response-Signature and Response-Timestamp
// headers.
func (f *fakeSmileID) enhancedKYCSync(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	ok := f.tokens[r.Header.Get("SmileID-Token")]
	f.mu.Unlock()
	if !ok || r.Header.Get("SmileID-API-Key") != "" || r.Header.Get("SmileID-Request-Signature") != "" {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Unauthorized"})
		return
	}
	var job struct {
		JobID string `json:"job_id"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&job); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "Bad request"})
		return
	}
	timestamp := signer.FormatTimestamp(time.Now())
	apiKey := f.key.APIKey
	if f.forge.Load() {
		apiKey = "the impostor's guess"
	}
	w.Header().Set("Response-Timestamp", timestamp)
	w.Header().Set("Response-Signature", signer.Sign(apiKey, f.key.PartnerID, timestamp))
	writeJSON(w, http.StatusOK, map[string]string{"job_id": job.JobID, "status": "clear", "message": fmt.Sprintf("Verified %s", job.JobID)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
