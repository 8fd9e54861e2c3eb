package load

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/middleware/confirm"
	"github.com/smileguard/smileguard/signer"
)

// twinKey signs every callback of TestTwinRate: one key, as one partner's
// callbacks are.
var twinKey = signer.Key{ID: "twins-production", PartnerID: "1622", APIKey: "twins-production-api-key", Environment: signer.Production}

// twinJob is what a v1 callback says of its job, and what job_status
// answers of it.
type twinJob struct {
	SmileJobID    string
	ResultCode    string
	ResultText    string
	PartnerParams struct {
		JobID  string `json:"job_id"`
		UserID string `json:"user_id"`
	}
}

// twinSmileID is a fake of Smile ID's POST /v1/job_status, as
// middleware/confirm's tests have it: it checks the request's signature
// and answers, for a job it knows, the result it sent, signed.
type twinSmileID struct {
	*httptest.Server
	mu    sync.Mutex
	jobs  map[string]twinJob
	asked atomic.Int64
}

func newTwinSmileID(t *testing.T) *twinSmileID {
	f := &twinSmileID{jobs: map[string]twinJob{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/job_status", f.jobStatus)
	f.Server = httptest.NewTLSServer(mux)
	t.Cleanup(f.Close)
	return f
}

// know records the job of a callback body Smile ID is about to send.
func (f *twinSmileID) know(body []byte) {
	var j twinJob
	if err := json.Unmarshal(body, &j); err != nil {
		panic(err) // callbacks.Body makes these members
	}
	f.mu.Lock()
	f.jobs[j.PartnerParams.JobID] = j
	f.mu.Unlock()
}

func (f *twinSmileID) jobStatus(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PartnerID string `json:"partner_id"`
		Signature string `json:"signature"`
		Timestamp string `json:"timestamp"`
		JobID     string `json:"job_id"`
		UserID    string `json:"user_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || !signer.Verify(twinKey.APIKey, req.PartnerID, req.Timestamp, req.Signature) {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	f.asked.Add(1)
	f.mu.Lock()
	j, ok := f.jobs[req.JobID]
	f.mu.Unlock()
	if !ok || j.PartnerParams.UserID != req.UserID {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	// A millisecond after the request's: over loopback the answer can come
	// in the request's own millisecond, and the Transport takes an answer
	// with the request's signature for a reflection.
	ts := signer.FormatTimestamp(time.Now().Add(time.Millisecond))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"job_complete": true, "job_success": true, "code": "2302", "result": j,
		"timestamp": ts, "signature": signer.Sign(twinKey.APIKey, twinKey.PartnerID, ts),
	})
}

// confirmer returns a Confirmer that asks f through a signer.Transport
// that signs the questions and verifies the answers.
func (f *twinSmileID) confirmer(t *testing.T) *confirm.Confirmer {
	tr := &signer.Transport{
		Key:             twinKey,
		Hosts:           []string{strings.TrimPrefix(f.URL, "https://")},
		Base:            f.Client().Transport,
		VerifyResponses: true,
	}
	c, err := confirm.New(confirm.Config{Production: &http.Client{Transport: tr}, ProductionURL: f.URL})
	require.NoError(t, err)
	return c
}

// twinReceiver is a guard in front of a handler that counts, by job id,
// the callbacks it was given and those Smile ID confirmed, served on
// loopback, where the guard takes 127.0.0.1 for Smile ID's production
// address.
type twinReceiver struct {
	*httptest.Server
	mu        sync.Mutex
	handled   map[string]int
	confirmed int
}

// newTwinReceiver serves a Guard with the in-memory replay store, no rate
// limit and, if c is not nil, Confirm set to c.
func newTwinReceiver(t *testing.T, c middleware.Confirmer) *twinReceiver {
	local, err := allowlist.SmileIDProduction.Replace("127.0.0.1")
	require.NoError(t, err)
	ring, err := signer.NewKeyring(twinKey)
	require.NoError(t, err)
	guard, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{local}},
		Callback:  middleware.CallbackConfig{Keyring: ring, Confirm: c},
	})
	require.NoError(t, err)
	tr := &twinReceiver{handled: map[string]int{}}
	tr.Server = httptest.NewServer(guard.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var j twinJob
		if err := json.NewDecoder(r.Body).Decode(&j); err != nil {
			http.Error(w, "unexpected callback fields", http.StatusBadRequest)
			return
		}
		cb, _ := middleware.CallbackFromContext(r.Context())
		tr.mu.Lock()
		tr.handled[j.PartnerParams.JobID]++
		if cb.Confirmed {
			tr.confirmed++
		}
		tr.mu.Unlock()
	})))
	t.Cleanup(tr.Close)
	return tr
}

// snapshot returns a copy of the callbacks handled by job, and how many were
// confirmed.
func (tr *twinReceiver) snapshot() (map[string]int, int) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	out := make(map[string]int, len(tr.handled))
	for job, n := range tr.handled {
		out[job] = n
	}
	return out, tr.confirmed
}
