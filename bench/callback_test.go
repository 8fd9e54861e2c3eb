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
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/stripe/stripe-go/v85"
	"github.com/stripe/stripe-go/v85/webhook"

	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// callbackNow is the clock of the callback benchmarks: every body is signed
// at it and every verifier but stripe-go's (which reads time.Now and cannot
// be told otherwise) reads it, so that none pays for time.Now.
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

// noopReplayStore admits every delivery, so that one signed body can be
// sent b.N times and the benchmark measures verification, not the
// duplicate answer (the in-memory store's own cost is
// middleware.BenchmarkMemoryReplayStore).
type noopReplayStore struct{}

func (noopReplayStore) Begin(context.Context, middleware.Delivery) (middleware.ReplayState, error) {
	return middleware.ReplayNew, nil
}
func (noopReplayStore) Finish(context.Context, middleware.Delivery, bool) error { return nil }
func (noopReplayStore) Renew(context.Context, middleware.Delivery) error        { return nil }

// readBody is the next handler everywhere: it reads the body, as any real
// handler does, and answers 200.
var readBody = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
})

func smileguardVerifier(tb testing.TB) http.Handler {
	ring, err := signer.NewKeyring(productionKey, sandboxKey)
	require.NoError(tb, err)
	v, err := middleware.NewCallbackVerifier(middleware.CallbackConfig{
		Keyring: ring,
		Now:     func() time.Time { return callbackNow },
		Replay:  noopReplayStore{},
	})
	require.NoError(tb, err)
	return v.Handler(readBody)
}

// handwrittenVerifier is what a careful user writes from Smile ID's
// documentation: read the body with a limit, decode it with encoding/json,
// check the timestamp's age and the HMAC with crypto/hmac, and pass the
// bytes on.
func handwrittenVerifier(testing.TB) http.Handler {
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
		if err != nil || at.Sub(callbackNow).Abs() > 5*time.Minute {
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
		readBody(w, &passed)
	})
}

const stripeSecret = "whsec_benchmark"

// stripeVerifier reads the body as handwrittenVerifier does and hands it
// to stripe-go's webhook package: ValidatePayload checks the signature
// alone, ConstructEvent also decodes the event.
func stripeVerifier(construct bool) func(testing.TB) http.Handler {
	return func(testing.TB) http.Handler {
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
			readBody(w, &passed)
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
	new    func(testing.TB) http.Handler
}{
	{"baseline-no-verification", false, func(testing.TB) http.Handler { return readBody }},
	{"smileguard", false, smileguardVerifier},
	{"handwritten-json-hmac", false, handwrittenVerifier},
	{"stripe-go-ValidatePayload", true, stripeVerifier(false)},
	{"stripe-go-ConstructEvent", true, stripeVerifier(true)},
}

// callbackRequest returns a request that sends body again each time rewind
// is called, and a ResponseWriter that keeps only the status.
func callbackRequest(body []byte, header http.Header) (r *http.Request, w *statusWriter, rewind func()) {
	reader := &rewindBody{}
	r, _ = http.NewRequest(http.MethodPost, "http://receiver.example/smileid/callback", reader)
	r.ContentLength = int64(len(body))
	r.Header = header
	r.RemoteAddr = "52.213.46.74:40000"
	return r, &statusWriter{h: http.Header{}}, func() { reader.Reset(body) }
}

// rewindBody is a request body that can be sent again without allocating.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

func callbackInput(tb testing.TB, stripe bool, size int) (*http.Request, *statusWriter, func()) {
	header := http.Header{"Content-Type": {"application/json"}}
	if !stripe {
		return callbackRequest(smileIDCallback(tb, size), header)
	}
	body, sig := stripeEvent(size)
	header.Set("Stripe-Signature", sig)
	return callbackRequest(body, header)
}

// statusWriter is a ResponseWriter that keeps the status and nothing else.
type statusWriter struct {
	h      http.Header
	status int
}

func (w *statusWriter) Header() http.Header         { return w.h }
func (w *statusWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *statusWriter) WriteHeader(status int)      { w.status = status }

// TestCallbackContendersAdmit makes sure every verifier is measured on the
// path that admits the callback.
func TestCallbackContendersAdmit(t *testing.T) {
	for _, size := range callbackSizes {
		for _, c := range callbackContenders {
			t.Run(size.name+"/"+c.name, func(t *testing.T) {
				r, w, rewind := callbackInput(t, c.stripe, size.bytes)
				assert.InDelta(t, size.bytes, r.ContentLength, 8, "body size")
				rewind()
				c.new(t).ServeHTTP(w, r)
				assert.Zero(t, w.status, "answered with an error status")
			})
		}
	}
}

// BenchmarkCallback verifies a 2 KB and a 1.5 MB callback.
func BenchmarkCallback(b *testing.B) {
	for _, size := range callbackSizes {
		for _, c := range callbackContenders {
			b.Run(size.name+"/"+c.name, func(b *testing.B) {
				r, w, rewind := callbackInput(b, c.stripe, size.bytes)
				h := c.new(b)
				b.SetBytes(r.ContentLength)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					rewind()
					h.ServeHTTP(w, r)
				}
				if w.status != 0 {
					b.Fatalf("answered %d", w.status)
				}
			})
		}
	}
}
