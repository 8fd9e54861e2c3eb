package middleware

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/allowctx"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// testNow is the verifier's clock in tests.
var testNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

var (
	sandboxKey    = signer.Key{ID: "sandbox-2026", PartnerID: "1622", APIKey: "sandbox-api-key-0001", Environment: signer.Sandbox}
	productionKey = signer.Key{ID: "production-2026", PartnerID: "1622", APIKey: "production-api-key-0001", Environment: signer.Production}
	retiredKey    = signer.Key{ID: "retired", PartnerID: "1622", APIKey: "retired-api-key-0001", Environment: signer.Production, NotAfter: testNow.Add(-time.Hour)}
	futureKey     = signer.Key{ID: "future", PartnerID: "1622", APIKey: "future-api-key-0001", Environment: signer.Production, NotBefore: testNow.Add(time.Hour)}
	strangerKey   = signer.Key{ID: "stranger", PartnerID: "1622", APIKey: "someone-elses-key", Environment: signer.Production}
)

const callbackBody = `{"SmileJobID":"0000000001","PartnerParams":{"job_id":"job-1","user_id":"user-1","job_type":5},"ResultType":"ID Verification","ResultText":"ID Number Validated","ResultCode":"1012","IsFinalResult":"true","Actions":{"Verify_ID_Number":"Verified"},"Country":"NG","IDType":"BVN","FullName":"ADA LOVELACE"}`

func testKeyring(t testing.TB) *signer.Keyring {
	ring, err := signer.NewKeyring(sandboxKey, productionKey, retiredKey, futureKey)
	require.NoError(t, err)
	return ring
}

// signedBody returns callbackBody (or body) signed by key at testNow+skew.
func signedBody(t testing.TB, key signer.Key, skew time.Duration, body ...string) []byte {
	t.Helper()
	b := callbackBody
	if len(body) > 0 {
		b = body[0]
	}
	out, err := signertest.SignCallback(key, []byte(b), testNow.Add(skew))
	require.NoError(t, err)
	return out
}

// recorder is a next handler that records what it read.
type recorder struct {
	mu      sync.Mutex
	calls   int32
	bodies  [][]byte
	status  int // what it answers; 0: 200
	block   chan struct{}
	seen    []Callback
	getBody [][]byte
	lengths []int64
}

func (h *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	atomic.AddInt32(&h.calls, 1)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		panic(err)
	}
	var again []byte
	if r.GetBody != nil {
		rc, err := r.GetBody()
		if err != nil {
			panic(err)
		}
		again, _ = io.ReadAll(rc)
	}
	cb, _ := CallbackFromContext(r.Context())
	h.mu.Lock()
	h.bodies = append(h.bodies, body)
	h.getBody = append(h.getBody, again)
	h.lengths = append(h.lengths, r.ContentLength)
	h.seen = append(h.seen, cb)
	h.mu.Unlock()
	if h.block != nil {
		<-h.block
	}
	if h.status != 0 {
		w.WriteHeader(h.status)
	}
	io.WriteString(w, "handled")
}

func (h *recorder) count() int { return int(atomic.LoadInt32(&h.calls)) }

// newVerifier returns a verifier at testNow with cfg's other fields.
func newVerifier(t testing.TB, cfg CallbackConfig) *CallbackVerifier {
	t.Helper()
	if cfg.Keyring == nil {
		cfg.Keyring = testKeyring(t)
	}
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return testNow }
	}
	v, err := NewCallbackVerifier(cfg)
	require.NoError(t, err)
	return v
}

// post builds a JSON POST of body, optionally from a client the allowlist
// placed in set.
func post(body []byte, set string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/smileid/callback", bytes.NewReader(body))
	r.Body = &sentBody{Reader: bytes.NewReader(body), data: body}
	r.Header.Set("Content-Type", "application/json")
	if set != "" {
		env := signer.Environment("")
		switch set {
		case allowlist.SmileIDProduction.Name:
			env = signer.Production
		case allowlist.SmileIDSandbox.Name:
			env = signer.Sandbox
		}
		r = withDecision(r, allowlist.Decision{Set: set, Environment: env})
	}
	return r
}

// withDecision returns r with d in its context, as an allowlist in front
// would have placed it.
func withDecision(r *http.Request, d allowlist.Decision) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), allowctx.DecisionKey{}, &d))
}

func serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// sentBody is a request body that remembers what it holds.
type sentBody struct {
	*bytes.Reader
	data []byte
}

func (*sentBody) Close() error { return nil }

// sentBytes returns the bytes post put in r's body.
func sentBytes(r *http.Request) []byte {
	if b, ok := r.Body.(*sentBody); ok {
		return b.data
	}
	return nil
}
