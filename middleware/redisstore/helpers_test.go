package redisstore

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/syncbuf"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// testNow is the verifiers' clock in tests. The replay store follows it;
// Redis's own clock only expires keys, minutes later.
var testNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

var productionKey = signer.Key{ID: "production-2026", PartnerID: "1622", APIKey: "production-api-key-0001", Environment: signer.Production}

const callbackBody = `{"SmileJobID":"0000000001","PartnerParams":{"job_id":"job-1","user_id":"user-1","job_type":5},"ResultType":"ID Verification","ResultText":"ID Number Validated","ResultCode":"1012","IsFinalResult":"true","Actions":{"Verify_ID_Number":"Verified"},"Country":"NG","IDType":"BVN","FullName":"ADA LOVELACE"}`

// Smile ID's production callback addresses, two of them.
const (
	smileIP      = "52.213.46.74"
	otherSmileIP = "34.240.137.52"
)

// signedBody returns body (callbackBody without one) signed at
// testNow+skew.
func signedBody(t testing.TB, skew time.Duration, body ...string) []byte {
	t.Helper()
	b := callbackBody
	if len(body) > 0 {
		b = body[0]
	}
	out, err := signertest.SignCallback(productionKey, []byte(b), testNow.Add(skew))
	require.NoError(t, err)
	return out
}

// instance is one receiver behind the load balancer: its own Redis client,
// replay store and limiter, and a guard in front of next.
type instance struct {
	http.Handler
	next *handler
}

// instanceConfig is what the instances of a test share.
type instanceConfig struct {
	limit    *LimiterConfig // nil: no rate limit
	timeout  time.Duration  // of the replay store
	logger   *slog.Logger
	next     *handler // nil: a new one per instance
	noReplay bool     // the in-memory replay store instead of Redis
}

func newInstance(t testing.TB, srv *redisServer, cfg instanceConfig) *instance {
	t.Helper()
	client := srv.client()
	gc := middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback: middleware.CallbackConfig{
			Keyring: keyring(t),
			Now:     func() time.Time { return testNow },
		},
		Logger: cfg.logger,
	}
	if !cfg.noReplay {
		store, err := NewReplayStore(client, ReplayConfig{Prefix: "test:", Timeout: cfg.timeout})
		require.NoError(t, err)
		gc.Callback.Replay = store
	}
	if cfg.limit != nil {
		lc := *cfg.limit
		lc.Prefix = "test:"
		limiter, err := NewLimiter(client, lc)
		require.NoError(t, err)
		gc.Limiter = limiter
	}
	g, err := middleware.NewGuard(gc)
	require.NoError(t, err)
	next := cfg.next
	if next == nil {
		next = &handler{}
	}
	return &instance{Handler: g.Handler(next), next: next}
}

func keyring(t testing.TB) *signer.Keyring {
	ring, err := signer.NewKeyring(productionKey)
	require.NoError(t, err)
	return ring
}

// post sends body to h as a callback from the client ip.
func post(h http.Handler, ip string, body []byte) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/smileid/callback", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = ip + ":40000"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// handler is a next handler that counts its calls and answers status (0:
// 200), after block is closed if it is not nil.
type handler struct {
	calls  atomic.Int32
	status atomic.Int32
	block  chan struct{}
	mu     sync.Mutex
	bodies [][]byte
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.calls.Add(1)
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	h.bodies = append(h.bodies, body)
	h.mu.Unlock()
	if h.block != nil {
		<-h.block
	}
	if s := h.status.Load(); s != 0 {
		w.WriteHeader(int(s))
	}
	io.WriteString(w, "handled")
}

func (h *handler) count() int { return int(h.calls.Load()) }

// hourly is a limit of burst callbacks, then one an hour.
func hourly(burst int) *LimiterConfig {
	return &LimiterConfig{Rate: rate.Every(time.Hour), Burst: burst}
}

// jsonLogger logs to logs, from Debug up.
func jsonLogger(logs *syncbuf.Buffer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
