package confirm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

var productionKey = signer.Key{ID: "production-1", PartnerID: "1622", APIKey: "confirm-test-api-key", Environment: signer.Production}

// job is one job the fake Smile ID knows.
type job struct {
	smileJobID, resultCode, resultText string // v1
	status                             string // v3
	userID                             string
}

// fakeSmileID answers job_status (v1, signed in the body both ways) and
// v3 status (token) for the jobs it knows.
type fakeSmileID struct {
	*httptest.Server
	mu       sync.Mutex
	jobs     map[string]job
	unsigned bool // answers job_status without a signature
	forged   bool // signs with a key it does not have
	asked    []string
}

func newFake(t *testing.T) *fakeSmileID {
	f := &fakeSmileID{jobs: map[string]job{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/job_status", f.jobStatus)
	mux.HandleFunc("POST /v3/token", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Smileid-Api-Key") != productionKey.APIKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		writeJSON(w, map[string]string{"token": "header.eyJleHAiOjQxMDI0NDQ4MDB9.sig"}) // exp in 2100
	})
	mux.HandleFunc("GET /v3/status/{job}", f.v3Status)
	f.Server = httptest.NewTLSServer(mux)
	t.Cleanup(f.Close)
	return f
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeSmileID) jobStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		P      string `json:"partner_id"`
		S      string `json:"signature"`
		T      string `json:"timestamp"`
		JobID  string `json:"job_id"`
		UserID string `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !signer.Verify(productionKey.APIKey, req.P, req.T, req.S) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.mu.Lock()
	f.asked = append(f.asked, req.JobID)
	j, ok := f.jobs[req.JobID]
	unsigned, forged := f.unsigned, f.forged
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	answer := map[string]any{
		"job_complete": true, "job_success": true, "code": "2302",
		"result": map[string]any{
			"SmileJobID": j.smileJobID, "ResultCode": j.resultCode, "ResultText": j.resultText,
			"PartnerParams": map[string]any{"job_id": req.JobID, "user_id": j.userID, "job_type": 5},
		},
	}
	if !unsigned {
		// A millisecond after the request's: over loopback the answer can
		// come in the request's own millisecond, and the Transport takes an
		// answer with the request's signature for a reflection.
		ts := signer.FormatTimestamp(time.Now().Add(time.Millisecond))
		key := productionKey.APIKey
		if forged {
			key = "not the key"
		}
		answer["timestamp"], answer["signature"] = ts, signer.Sign(key, productionKey.PartnerID, ts)
	}
	writeJSON(w, answer)
}

func (f *fakeSmileID) v3Status(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Smileid-Token") == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := r.PathValue("job")
	f.mu.Lock()
	f.asked = append(f.asked, r.URL.EscapedPath())
	j, ok := f.jobs[id]
	f.mu.Unlock()
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	writeJSON(w, map[string]string{"status": j.status, "message": "Verified", "job_id": id, "user_id": j.userID, "created_at": "2026-11-21T10:00:00.000Z"})
}

// confirmer returns a Confirmer that asks f through a signer.Transport.
func confirmer(t *testing.T, f *fakeSmileID) *Confirmer {
	tr := &signer.Transport{
		Key:             productionKey,
		Hosts:           []string{strings.TrimPrefix(f.URL, "https://")},
		Base:            f.Client().Transport,
		VerifyResponses: true,
	}
	c, err := New(Config{Production: &http.Client{Transport: tr}, ProductionURL: f.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

const v1Body = `{"SmileJobID":"0000000002","PartnerParams":{"job_id":"job-2","user_id":"user-2","job_type":5},` +
	`"ResultType":"ID Verification","ResultText":"ID Number Validated","ResultCode":"1012"}`

func TestConfirmBodySignedWithJobStatus(t *testing.T) {
	f := newFake(t)
	f.jobs["job-2"] = job{smileJobID: "0000000002", resultCode: "1012", resultText: "ID Number Validated", userID: "user-2"}
	c := confirmer(t, f)
	cb := middleware.Callback{KeyID: productionKey.ID, Environment: signer.Production, Format: middleware.BodySigned}

	tests := []struct {
		name     string
		body     string
		setup    func()
		refuted  bool
		failWith string // a failure to ask: neither nil nor a refutation
	}{
		{"Smile ID's answer matches", v1Body, nil, false, ""},
		{"another result code", strings.Replace(v1Body, `"1012"`, `"1022"`, 1), nil, true, ""},
		{"another result text", strings.Replace(v1Body, `Validated`, `Not Found`, 1), nil, true, ""},
		{"another Smile job id", strings.Replace(v1Body, `0000000002`, `0000000003`, 1), nil, true, ""},
		{"another user", strings.Replace(v1Body, `user-2`, `user-9`, 1), nil, true, ""},
		{"a job Smile ID does not know", strings.Replace(v1Body, `job-2`, `job-7`, 1), nil, true, ""},
		{"no job to ask about", `{"ResultCode":"1012"}`, nil, true, ""},
		{"not the shape Smile ID sends", `{"PartnerParams":[]}`, nil, true, ""},
		{"an unsigned answer proves nothing", v1Body, func() { f.unsigned = true }, false, "not signed"},
		{"an answer signed with another key", v1Body, func() { f.unsigned, f.forged = false, true }, false, "invalid response signature"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.setup != nil {
				tt.setup()
			}
			err := c.Confirm(context.Background(), cb, []byte(tt.body))
			switch {
			case tt.failWith != "":
				if err == nil || errors.Is(err, middleware.ErrNotConfirmed) || !strings.Contains(err.Error(), tt.failWith) {
					t.Fatalf("err %v, want a failure to ask mentioning %q", err, tt.failWith)
				}
			case tt.refuted:
				if !errors.Is(err, middleware.ErrNotConfirmed) {
					t.Fatalf("err %v, want a refutation", err)
				}
				if strings.Contains(err.Error(), "1022") || strings.Contains(err.Error(), "user-9") {
					t.Fatalf("the error quotes a value: %v", err)
				}
			case err != nil:
				t.Fatalf("err %v, want confirmed", err)
			}
		})
	}
}

func TestConfirmNeedsAClientForTheEnvironment(t *testing.T) {
	f := newFake(t)
	c := confirmer(t, f)
	err := c.Confirm(context.Background(), middleware.Callback{Environment: signer.Sandbox}, []byte(v1Body))
	if !errors.Is(err, ErrNoClient) {
		t.Fatalf("err %v, want ErrNoClient", err)
	}
	if _, err := New(Config{}); err == nil {
		t.Fatal("a Config without clients is accepted")
	}
}

// TestTwinsThroughTheVerifier is the whole story: two genuine callbacks of
// different jobs signed in one millisecond, and a tampered one, through a
// CallbackVerifier that asks the fake Smile ID.
func TestTwinsThroughTheVerifier(t *testing.T) {
	f := newFake(t)
	f.jobs["job-1"] = job{smileJobID: "0000000001", resultCode: "1012", resultText: "ID Number Validated", userID: "user-1"}
	f.jobs["job-2"] = job{smileJobID: "0000000002", resultCode: "1012", resultText: "ID Number Validated", userID: "user-2"}
	ring, err := signer.NewKeyring(productionKey)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	v, err := middleware.NewCallbackVerifier(middleware.CallbackConfig{Keyring: ring, Confirm: confirmer(t, f)})
	if err != nil {
		t.Fatal(err)
	}
	var handled []string
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cb, _ := middleware.CallbackFromContext(r.Context())
		var body struct{ SmileJobID string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		handled = append(handled, body.SmileJobID)
		if cb.Confirmed {
			handled[len(handled)-1] += " (confirmed)"
		}
	}))
	send := func(body string) int {
		ts := signer.FormatTimestamp(now)
		signed := strings.TrimSuffix(body, "}") + `,"signature":"` + signer.Sign(productionKey.APIKey, productionKey.PartnerID, ts) + `","timestamp":"` + ts + `"}`
		r := httptest.NewRequest(http.MethodPost, "/smileid/callback", strings.NewReader(signed))
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	first := strings.NewReplacer("0000000002", "0000000001", "job-2", "job-1", "user-2", "user-1").Replace(v1Body)
	if code := send(first); code != 200 {
		t.Fatalf("first twin: %d", code)
	}
	if code := send(v1Body); code != 200 {
		t.Fatalf("second twin: %d", code)
	}
	if code := send(strings.Replace(v1Body, `"1012"`, `"1022"`, 1)); code != 401 {
		t.Fatalf("tampered: %d", code)
	}
	if want := []string{"0000000001", "0000000002 (confirmed)"}; strings.Join(handled, ",") != strings.Join(want, ",") {
		t.Fatalf("handled %v, want %v", handled, want)
	}
}

const v3WebhookBody = `{"job_id":"job_01jd8m3xq4y5z6a7b8c9d0e1f2","user_id":"user_01jd8m3xq4y5z6a7b8c9d0e1f3",` +
	`"status":"clear","message":"Verified","product":"enhanced_kyc","created_at":"2026-11-21T10:00:00.000Z"}`

func TestConfirmHeaderSignedWithV3Status(t *testing.T) {
	f := newFake(t)
	f.jobs["job_01jd8m3xq4y5z6a7b8c9d0e1f2"] = job{status: "clear", userID: "user_01jd8m3xq4y5z6a7b8c9d0e1f3"}
	c := confirmer(t, f)
	cb := middleware.Callback{KeyID: productionKey.ID, Environment: signer.Production, Format: middleware.HeaderSigned}
	for _, tt := range []struct {
		name    string
		body    string
		refuted bool
	}{
		{"Smile ID's status matches", v3WebhookBody, false},
		{"another status", strings.Replace(v3WebhookBody, `"clear"`, `"block"`, 1), true},
		{"another user", strings.Replace(v3WebhookBody, `user_01jd8m3xq4y5z6a7b8c9d0e1f3`, `user_01jd8m3xq4y5z6a7b8c9d0e1f9`, 1), true},
		{"a job Smile ID does not know", strings.Replace(v3WebhookBody, `e1f2"`, `e1f4"`, 1), true},
		{"no job id (One-Time AML strips it)", `{"status":"clear","product":"aml"}`, true},
		{"a job id that would climb the path", strings.Replace(v3WebhookBody, `job_01jd8m3xq4y5z6a7b8c9d0e1f2`, `../../v1/job_status`, 1), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := c.Confirm(context.Background(), cb, []byte(tt.body))
			if tt.refuted != errors.Is(err, middleware.ErrNotConfirmed) || (!tt.refuted && err != nil) {
				t.Fatalf("err %v, refuted want %v", err, tt.refuted)
			}
		})
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, asked := range f.asked {
		if !strings.HasPrefix(asked, "/v3/status/") || strings.Contains(strings.TrimPrefix(asked, "/v3/status/"), "/") {
			t.Fatalf("a job id reached Smile ID as more than one path segment: %q", asked)
		}
	}
}
