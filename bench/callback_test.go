package bench

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// callbackNow is where the benchmark clock starts: the first body is
// signed at it, and every verifier but stripe-go's (which reads time.Now
// and cannot be told otherwise) reads the clock (benchClock).
var callbackNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

var (
	productionKey = signer.Key{ID: "production", PartnerID: "1622", APIKey: "production-api-key-0001", Environment: signer.Production}
	sandboxKey    = signer.Key{ID: "sandbox", PartnerID: "1622", APIKey: "sandbox-api-key-0001", Environment: signer.Sandbox}
)

// callbackSizes are the sizes of the issue: a usual callback, and the
// largest Smile ID asks receivers to accept.
var callbackSizes = []struct {
	name  string
	bytes int
}{{"2KB", 2 << 10}, {"1.5MB", 1536 << 10}}

// callbackURL and callbackPeer are where every callback goes and comes
// from: one of Smile ID's production addresses, on the port it sends from.
const (
	callbackURL  = "http://receiver.example/smileid/callback"
	callbackPeer = "52.213.46.74:443"
)

// noopReplayStore admits every delivery: the verifier-only contender
// measures verification, as the hand-written check has no replay defence
// (the in-memory store's own cost is middleware.BenchmarkMemoryReplayStore,
// and the whole Guard beside it has the default store).
type noopReplayStore struct{}

func (noopReplayStore) Begin(context.Context, middleware.Delivery) (middleware.ReplayState, error) {
	return middleware.ReplayNew, nil
}
func (noopReplayStore) Finish(context.Context, middleware.Delivery, bool) error { return nil }
func (noopReplayStore) Renew(context.Context, middleware.Delivery) error        { return nil }

// countingHandler is the next handler everywhere: it reads the body, as
// any real handler does, answers 200, and counts its calls, so that a
// benchmark knows each iteration was admitted and not acknowledged as a
// duplicate.
type countingHandler struct{ calls int }

func (h *countingHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	h.calls++
}

func callbackKeyring(tb testing.TB) *signer.Keyring {
	ring, err := signer.NewKeyring(productionKey, sandboxKey)
	require.NoError(tb, err)
	return ring
}

// smileguardGuard is the whole middleware.Guard as a receiver sets it up
// for Smile ID's production callbacks: the allowlist, the verifier with
// its default in-memory replay store, the body handed on.
func smileguardGuard(tb testing.TB, clock *benchClock, next http.Handler) http.Handler {
	g, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  middleware.CallbackConfig{Keyring: callbackKeyring(tb), Now: clock.Now},
	})
	require.NoError(tb, err)
	return g.Handler(next)
}

// smileguardGuardReusingBodies is smileguardGuard with the opt-in
// CallbackConfig.ReuseBodyBuffers: body buffers are lent again once the
// next handler has returned.
func smileguardGuardReusingBodies(tb testing.TB, clock *benchClock, next http.Handler) http.Handler {
	g, err := middleware.NewGuard(middleware.GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  middleware.CallbackConfig{Keyring: callbackKeyring(tb), Now: clock.Now, ReuseBodyBuffers: true},
	})
	require.NoError(tb, err)
	return g.Handler(next)
}

// smileguardVerifier is the callback verifier alone, with a replay store
// that admits everything.
func smileguardVerifier(tb testing.TB, clock *benchClock, next http.Handler) http.Handler {
	v, err := middleware.NewCallbackVerifier(middleware.CallbackConfig{
		Keyring: callbackKeyring(tb),
		Now:     clock.Now,
		Replay:  noopReplayStore{},
	})
	require.NoError(tb, err)
	return v.Handler(next)
}

func floorContender(_ testing.TB, clock *benchClock, next http.Handler) http.Handler {
	return newFloor(productionKey, clock.Now).Handler(next)
}

// handwrittenVerifier is what a careful user writes from Smile ID's
// documentation: read the body with a limit, decode it with encoding/json,
// check the timestamp's age and the HMAC with crypto/hmac, and pass the
// bytes on.
func handwrittenVerifier(_ testing.TB, clock *benchClock, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2<<20))
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		var cb struct {
			Signature string `json:"signature"`
			Timestamp string `json:"timestamp"`
		}
		if err := json.Unmarshal(body, &cb); err != nil {
			http.Error(w, "bad json", http.StatusBadRequest)
			return
		}
		at, err := time.Parse(time.RFC3339Nano, cb.Timestamp)
		if err != nil || at.Sub(clock.Now()).Abs() > 5*time.Minute {
			http.Error(w, "stale", http.StatusUnauthorized)
			return
		}
		mac := hmac.New(sha256.New, []byte(productionKey.APIKey))
		mac.Write([]byte(cb.Timestamp))
		mac.Write([]byte(productionKey.PartnerID))
		mac.Write([]byte("sid_request"))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(want), []byte(cb.Signature)) {
			http.Error(w, "forged", http.StatusUnauthorized)
			return
		}
		passed := *r // the caller's request is not ours to change
		passed.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, &passed)
	})
}

const stripeSecret = "whsec_benchmark"

// stripeVerifier reads the body as handwrittenVerifier does and hands it
// to stripe-go's webhook package: ValidatePayload checks the signature
// alone, ConstructEvent also decodes the event.
func stripeVerifier(construct bool) func(testing.TB, *benchClock, http.Handler) http.Handler {
	return func(_ testing.TB, _ *benchClock, next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 2<<20))
			if err != nil {
				http.Error(w, "bad body", http.StatusBadRequest)
				return
			}
			header := r.Header.Get("Stripe-Signature")
			if construct {
				_, err = webhook.ConstructEvent(body, header, stripeSecret)
			} else {
				err = webhook.ValidatePayload(body, header, stripeSecret)
			}
			if err != nil {
				http.Error(w, "forged", http.StatusUnauthorized)
				return
			}
			passed := *r
			passed.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, &passed)
		})
	}
}

// smileIDCallback returns a signed Smile ID callback of about size bytes.
func smileIDCallback(tb testing.TB, size int) []byte {
	body, err := signertest.SignCallback(productionKey, callbacks.Body("a2a4d6e0-6b3c-4b8e-9a4f-1c2d3e4f5a6b", size), callbackNow)
	require.NoError(tb, err)
	return body
}

// stripeEvent returns a Stripe event of size bytes, the same size as the
// Smile ID callback it stands beside, and its Stripe-Signature header made
// now (stripe-go checks the age against time.Now).
func stripeEvent(size int) (body []byte, header string) {
	event := fmt.Sprintf(`{"id":"evt_1","object":"event","api_version":%q,"created":%d,"livemode":false,"pending_webhooks":1,`+
		`"request":{"id":"req_1","idempotency_key":null},"type":"identity.verification_session.verified",`+
		`"data":{"object":{"id":"vs_1","object":"identity.verification_session","status":"verified","metadata":{"photo":"`,
		stripe.APIVersion, time.Now().Unix())
	const end = `"}}}}`
	body = append([]byte(event), bytes.Repeat([]byte("QUJD"), (size-len(event)-len(end))/4)...)
	body = append(body, end...)
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: stripeSecret, Timestamp: time.Now()})
	return signed.Payload, signed.Header
}

var callbackContenders = []struct {
	name   string
	stripe bool // sends a Stripe event instead of a Smile ID callback
	// remembers: a delivery sent again does not reach the next handler.
	remembers bool
	new       func(tb testing.TB, clock *benchClock, next http.Handler) http.Handler
}{
	{"baseline-no-verification", false, false, func(_ testing.TB, _ *benchClock, next http.Handler) http.Handler { return next }},
	{"floor", false, true, floorContender},
	{"smileguard-guard", false, true, smileguardGuard},
	{"smileguard", false, false, smileguardVerifier},
	{"handwritten-json-hmac", false, false, handwrittenVerifier},
	{"stripe-go-ValidatePayload", true, false, stripeVerifier(false)},
	{"stripe-go-ConstructEvent", true, false, stripeVerifier(true)},
}

// callbackInput is what one benchmark sends: a body, fresh each time
// unless it is Stripe's, and its headers.
type callbackInput struct {
	body   []byte
	header http.Header
	// fresh rewrites body into a new delivery each time; nil for
	// Stripe's events, which nothing here remembers.
	fresh *freshCallbacks
}

func newCallbackInput(tb testing.TB, stripe bool, size int, clock *benchClock) *callbackInput {
	in := &callbackInput{header: http.Header{"Content-Type": {"application/json"}}}
	if stripe {
		body, sig := stripeEvent(size)
		in.body = body
		in.header["Stripe-Signature"] = []string{sig}
		return in
	}
	in.fresh = newFreshCallbacks(tb, productionKey, smileIDCallback(tb, size), clock)
	in.body = in.fresh.body
	return in
}

// request returns a new request of the input, as a server makes one for
// each it reads.
func (in *callbackInput) request() *http.Request {
	r := httptest.NewRequest(http.MethodPost, callbackURL, bytes.NewReader(in.body))
	for k, v := range in.header {
		r.Header[k] = v
	}
	r.RemoteAddr = callbackPeer
	return r
}

// TestCallbackContendersAdmit makes sure every contender is measured on
// the path that admits a new callback, and that those said to remember
// deliveries do.
func TestCallbackContendersAdmit(t *testing.T) {
	for _, size := range callbackSizes {
		for _, c := range callbackContenders {
			t.Run(size.name+"/"+c.name, func(t *testing.T) {
				clock := &benchClock{}
				in := newCallbackInput(t, c.stripe, size.bytes, clock)
				assert.InDelta(t, size.bytes, len(in.body), 8, "body size")
				next := &countingHandler{}
				h := c.new(t, clock, next)
				if in.fresh != nil {
					in.fresh.sign(2)
				}
				for try, want := range []int{1, 2} {
					if in.fresh != nil {
						in.fresh.next()
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, in.request())
					require.Equal(t, http.StatusOK, w.Code, "delivery %d: %s", try+1, w.Body)
					require.Equal(t, want, next.calls, "delivery %d reached the handler", try+1)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, in.request()) // the second delivery again
				wantCalls := 3
				if c.remembers {
					wantCalls = 2
				}
				assert.Equal(t, wantCalls, next.calls, "a delivery sent again reached the handler")
			})
		}
	}
}

// BenchmarkCallback verifies a 2 KB and a 1.5 MB callback, a new delivery
// each time, in a request and recorder of its own. A contender that
// remembers deliveries is first sent as many as it will be timed on, up
// to what its replay store holds in steady state (liveDeliveries), so that
// it is timed with a store as full as a busy receiver's.
func BenchmarkCallback(b *testing.B) {
	for _, size := range callbackSizes {
		for _, c := range callbackContenders {
			b.Run(size.name+"/"+c.name, func(b *testing.B) {
				clock := &benchClock{}
				in := newCallbackInput(b, c.stripe, size.bytes, clock)
				next := &countingHandler{}
				h := c.new(b, clock, next)
				warm := 0
				if c.remembers {
					warm = min(b.N, liveDeliveries)
				}
				serveCallbacks(b, h, in, warm)
				if next.calls != warm+b.N {
					b.Fatalf("%d of %d callbacks reached the handler", next.calls, warm+b.N)
				}
			})
		}
	}
}

// serveCallbacks sends warm deliveries of in through h untimed, then b.N
// timed, and fails on any answer but 200. The pairs of fresh deliveries
// are signed in batches with the timer stopped; the CPU time of each timed
// stretch is added up.
func serveCallbacks(b *testing.B, h http.Handler, in *callbackInput, warm int) {
	send := func(i int) {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, in.request())
		if w.Code != http.StatusOK {
			b.Fatalf("callback %d answered %d: %s", i, w.Code, w.Body)
		}
	}
	for i := 0; i < warm; i++ {
		if !in.fresh.signed() {
			in.fresh.sign(warm + b.N - i)
		}
		in.fresh.next()
		send(i - warm)
	}
	if in.fresh != nil && !in.fresh.signed() {
		in.fresh.sign(b.N)
	}
	b.SetBytes(int64(len(in.body)))
	b.ReportAllocs()
	b.ResetTimer()
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		if in.fresh != nil {
			if !in.fresh.signed() {
				cpu.pause()
				b.StopTimer()
				in.fresh.sign(b.N - i)
				b.StartTimer()
				cpu.resume()
			}
			in.fresh.next()
		}
		send(i)
	}
	b.StopTimer()
	cpu.report(b)
}

// rewindBody is a request body that can be sent again without allocating
// (transport_test.go's stub answers with one).
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }
