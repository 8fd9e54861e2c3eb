package prommetrics_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// A rotation in progress: the old key still signs the callbacks of jobs
// started before it, the new one those of later jobs. Both are made up.
var (
	oldKey = signer.Key{ID: "production-2026-05", PartnerID: "1622", APIKey: "5d1c3e7a-old-made-up-api-key", Environment: signer.Production}
	newKey = signer.Key{ID: "production-2026-11", PartnerID: "1622", APIKey: "9b2f4a61-new-made-up-api-key", Environment: signer.Production}
	// strangerKey is in no keyring.
	strangerKey = signer.Key{ID: "stranger", PartnerID: "1622", APIKey: "0e8d-stranger-made-up-api-key", Environment: signer.Production}

	testNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
)

const (
	smileIDAddr  = "52.213.46.74:443" // in allowlist.SmileIDProduction
	strangerAddr = "203.0.113.9:443"
	jobBody      = `{"SmileJobID":"job-first","ResultCode":"1012","ResultText":"Enroll User"}`
	oldJobBody   = `{"SmileJobID":"job-old-key","ResultCode":"1012","ResultText":"Enroll User"}`
	v3Body       = `{"job_id":"job-v3","status":"complete"}`
)

func testKeyring(t testing.TB) *signer.Keyring {
	t.Helper()
	k, err := signer.NewKeyring(oldKey, newKey)
	require.NoError(t, err)
	return k
}

// newGuard is a Guard for Smile ID's production addresses, with its clock
// fixed at testNow, reporting to observe, in front of a handler that
// answers 200.
func newGuard(t testing.TB, keyring *signer.Keyring, observe middleware.Observer) http.Handler {
	t.Helper()
	g, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  middleware.CallbackConfig{Keyring: keyring, Now: func() time.Time { return testNow }},
		Observe:   observe,
	})
	require.NoError(t, err)
	return g.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
}

func signed(t testing.TB, key signer.Key, body string, at time.Time) string {
	t.Helper()
	out, err := signertest.SignCallback(key, []byte(body), at)
	require.NoError(t, err)
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

// traffic is a morning of callbacks during a key rotation: what each
// request is, the request, and the status the guard must answer; and the
// strings no metric may carry: the client addresses, the API keys, the
// signatures and the bodies' contents.
type step struct {
	name   string
	req    *http.Request
	status int
}

func traffic(t testing.TB) (steps []step, secrets []string) {
	genuine := signed(t, newKey, jobBody, testNow.Add(-2*time.Second))
	tampered := strings.Replace(genuine, `"ResultCode":"1012"`, `"ResultCode":"0810"`, 1)
	get := post(smileIDAddr, genuine)
	get.Method = http.MethodGet
	steps = []step{
		{"genuine callback", post(smileIDAddr, genuine), http.StatusOK},
		{"retry of it", post(smileIDAddr, genuine), http.StatusOK},
		{"tampered replay of it", post(smileIDAddr, tampered), http.StatusUnauthorized},
		{"callback signed with the old key", post(smileIDAddr, signed(t, oldKey, oldJobBody, testNow.Add(-time.Second))), http.StatusOK},
		{"header-signed callback", headerSigned(smileIDAddr, newKey, v3Body, testNow.Add(-time.Second)), http.StatusOK},
		{"stale callback", post(smileIDAddr, signed(t, newKey, jobBody, testNow.Add(-10*time.Minute))), http.StatusUnauthorized},
		{"signed with a key not in the keyring", post(smileIDAddr, signed(t, strangerKey, jobBody, testNow)), http.StatusUnauthorized},
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
		require.NoError(t, json.Unmarshal([]byte(body), &members))
		secrets = append(secrets, members.Signature, members.Timestamp)
	}
	return steps, secrets
}
