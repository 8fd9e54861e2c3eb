// Package metricstest is what the tests of the metrics adapters
// (middleware/prommetrics, middleware/otelmetrics) share: a guard during a
// key rotation and a morning of real callbacks sent through it, so that
// both adapters are held to the same traffic.
package metricstest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// A rotation in progress: the old key still signs the callbacks of jobs
// started before it, the new one those of later jobs. All are made up.
var (
	oldKey = signer.Key{ID: "production-2026-05", PartnerID: "1622", APIKey: "5d1c3e7a-old-made-up-api-key", Environment: signer.Production}
	newKey = signer.Key{ID: "production-2026-11", PartnerID: "1622", APIKey: "9b2f4a61-new-made-up-api-key", Environment: signer.Production}
	// strangerKey is in no keyring.
	strangerKey = signer.Key{ID: "stranger", PartnerID: "1622", APIKey: "0e8d-stranger-made-up-api-key", Environment: signer.Production}

	now = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
)

const (
	smileIDAddr  = "52.213.46.74:443" // in allowlist.SmileIDProduction
	strangerAddr = "203.0.113.9:443"
	jobBody      = `{"SmileJobID":"job-first","ResultCode":"1012","ResultText":"Enroll User"}`
	oldJobBody   = `{"SmileJobID":"job-old-key","ResultCode":"1012","ResultText":"Enroll User"}`
	v3Body       = `{"job_id":"job-v3","status":"complete"}`
)

// Keyring returns the keyring of the rotation: the old and the new
// production key.
func Keyring(t testing.TB) *signer.Keyring {
	t.Helper()
	k, err := signer.NewKeyring(oldKey, newKey)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Guard returns a Guard for Smile ID's production addresses, with its
// clock fixed at the traffic's morning, reporting to observe, in front of
// a handler that answers 200.
func Guard(t testing.TB, keyring *signer.Keyring, observe middleware.Observer) http.Handler {
	t.Helper()
	g, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  middleware.CallbackConfig{Keyring: keyring, Now: func() time.Time { return now }},
		Observe:   observe,
	})
	if err != nil {
		t.Fatal(err)
	}
	return g.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
}

// Send sends the traffic through h, a Guard, failing t if an answer is not
// the one the guard must give. It returns the body bytes of Smile ID's
// requests by outcome ("outcome=accepted", "outcome=acknowledged",
// "outcome=refused"), as a body-size metric must add them up, and the
// strings no metric may carry: the client addresses, the API keys, the
// signatures, the timestamps and the bodies' contents.
func Send(t testing.TB, h http.Handler) (bodyBytes map[string]float64, secrets []string) {
	t.Helper()
	steps, secrets := traffic(t)
	bodyBytes = map[string]float64{}
	for _, st := range steps {
		var size int
		if st.req.Method == http.MethodPost && st.req.RemoteAddr == smileIDAddr {
			size = int(st.req.ContentLength)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, st.req)
		if w.Code != st.status {
			t.Fatalf("%s: answered %d, want %d: %s", st.name, w.Code, st.status, w.Body)
		}
		switch {
		case st.name == "retry of it":
			bodyBytes["outcome=acknowledged"] += float64(size)
		case st.status == http.StatusOK:
			bodyBytes["outcome=accepted"] += float64(size)
		default:
			bodyBytes["outcome=refused"] += float64(size)
		}
	}
	return bodyBytes, secrets
}

// step is one request of the traffic and the status the guard must answer.
type step struct {
	name   string
	req    *http.Request
	status int
}

// traffic is a morning of callbacks during the key rotation, and the
// strings no metric may carry.
func traffic(t testing.TB) (steps []step, secrets []string) {
	genuine := signed(t, newKey, jobBody, now.Add(-2*time.Second))
	tampered := strings.Replace(genuine, `"ResultCode":"1012"`, `"ResultCode":"0810"`, 1)
	get := post(smileIDAddr, genuine)
	get.Method = http.MethodGet
	steps = []step{
		{"genuine callback", post(smileIDAddr, genuine), http.StatusOK},
		{"retry of it", post(smileIDAddr, genuine), http.StatusOK},
		{"tampered replay of it", post(smileIDAddr, tampered), http.StatusUnauthorized},
		{"callback signed with the old key", post(smileIDAddr, signed(t, oldKey, oldJobBody, now.Add(-time.Second))), http.StatusOK},
		{"header-signed callback", headerSigned(smileIDAddr, newKey, v3Body, now.Add(-time.Second)), http.StatusOK},
		{"stale callback", post(smileIDAddr, signed(t, newKey, jobBody, now.Add(-10*time.Minute))), http.StatusUnauthorized},
		{"signed with a key not in the keyring", post(smileIDAddr, signed(t, strangerKey, jobBody, now)), http.StatusUnauthorized},
		{"genuine callback from a stranger's address", post(strangerAddr, genuine), http.StatusForbidden},
		{"GET", get, http.StatusMethodNotAllowed},
	}

	secrets = []string{"52.213.46.74", "203.0.113.9", "job-first", "job-old-key", "job-v3", "Enroll User", "complete"}
	for _, k := range []signer.Key{oldKey, newKey, strangerKey} {
		secrets = append(secrets, k.APIKey)
	}
	for _, st := range steps {
		if sig := st.req.Header.Get("Response-Signature"); sig != "" {
			secrets = append(secrets, sig, st.req.Header.Get("Response-Timestamp"))
		}
	}
	for _, body := range []string{genuine, tampered} {
		var members struct{ Signature, Timestamp string }
		if err := json.Unmarshal([]byte(body), &members); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, members.Signature, members.Timestamp)
	}
	return steps, secrets
}

func signed(t testing.TB, key signer.Key, body string, at time.Time) string {
	t.Helper()
	out, err := signertest.SignCallback(key, []byte(body), at)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func post(addr, body string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/smileid/callback", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = addr
	return r
}

// headerSigned is a v3 callback: the signature in the Response-Signature
// and Response-Timestamp headers, over a JSON object body.
func headerSigned(addr string, key signer.Key, body string, at time.Time) *http.Request {
	r := post(addr, body)
	ts := signer.FormatTimestamp(at)
	r.Header.Set("Response-Signature", signer.Sign(key.APIKey, key.PartnerID, ts))
	r.Header.Set("Response-Timestamp", ts)
	return r
}
