package middleware

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
)

func jsonLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func TestNewCallbackVerifierRefuses(t *testing.T) {
	ring := testKeyring(t)
	tests := []struct {
		name string
		cfg  CallbackConfig
		want string
	}{
		{"no keyring", CallbackConfig{}, "CallbackConfig.Keyring is nil"},
		{"empty keyring", CallbackConfig{Keyring: &signer.Keyring{}}, "CallbackConfig.Keyring holds no keys"},
		{"negative body limit", CallbackConfig{Keyring: ring, MaxBodyBytes: -1}, "CallbackConfig.MaxBodyBytes"},
		{"negative tolerance", CallbackConfig{Keyring: ring, Tolerance: -time.Second}, "CallbackConfig.Tolerance"},
		{"tolerance over an hour", CallbackConfig{Keyring: ring, Tolerance: 2 * time.Hour}, "CallbackConfig.Tolerance"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewCallbackVerifier(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, v)
			assert.Contains(t, err.Error(), tt.want)
			assert.True(t, strings.HasPrefix(err.Error(), "middleware: "))
		})
	}
}

func TestDefaults(t *testing.T) {
	v, err := NewCallbackVerifier(CallbackConfig{Keyring: testKeyring(t)})
	require.NoError(t, err)
	assert.Equal(t, int64(2<<20), v.maxBody)
	assert.Equal(t, 5*time.Minute, v.tolerance)
	assert.IsType(t, &MemoryReplayStore{}, v.replay)
}

func TestVerifyWithoutHTTP(t *testing.T) {
	v := newVerifier(t, CallbackConfig{})
	cb, err := v.Verify(signedBody(t, sandboxKey, -time.Second))
	require.NoError(t, err)
	assert.Equal(t, Callback{KeyID: "sandbox-2026", Environment: signer.Sandbox, Timestamp: testNow.Add(-time.Second), Format: BodySigned}, cb)

	_, err = v.Verify(signedBody(t, sandboxKey, 0), signer.Production)
	require.ErrorIs(t, err, signer.ErrInvalidSignature)
	_, err = v.Verify(signedBody(t, sandboxKey, time.Hour))
	require.ErrorIs(t, err, ErrStaleTimestamp)
	_, err = v.Verify([]byte(`[]`))
	require.ErrorIs(t, err, ErrMalformedCallback)

	// Verify does not consult the replay store: the same body verifies twice.
	body := signedBody(t, sandboxKey, 0)
	_, err = v.Verify(body)
	require.NoError(t, err)
	_, err = v.Verify(body)
	require.NoError(t, err)
}

func TestCallbackFromContext(t *testing.T) {
	var got Callback
	var ok bool
	h := newVerifier(t, CallbackConfig{}).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok = CallbackFromContext(r.Context())
	}))
	require.Equal(t, 200, serve(h, post(signedBody(t, productionKey, -2*time.Second), "production")).Code)
	require.True(t, ok)
	assert.Equal(t, Callback{KeyID: "production-2026", Environment: signer.Production, Timestamp: testNow.Add(-2 * time.Second), Format: BodySigned}, got)

	_, ok = CallbackFromContext(post(nil, "").Context())
	assert.False(t, ok)
}

func TestRejectedHandlerLearnsWhy(t *testing.T) {
	var reasons []error
	rejected := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := Reason(r)
		reasons = append(reasons, err)
		_, ok := CallbackFromContext(r.Context())
		assert.False(t, ok)
		w.WriteHeader(StatusCode(err))
	})
	h := newVerifier(t, CallbackConfig{Rejected: rejected}).Handler(&recorder{})
	assert.Equal(t, 401, serve(h, post(signedBody(t, strangerKey, 0), "")).Code)
	assert.Equal(t, 400, serve(h, post([]byte(`{}`), "")).Code)
	assert.Equal(t, 401, serve(h, post(signedBody(t, productionKey, time.Hour), "")).Code)
	require.Len(t, reasons, 3)
	assert.ErrorIs(t, reasons[0], signer.ErrInvalidSignature)
	assert.ErrorIs(t, reasons[1], ErrMalformedCallback)
	assert.ErrorIs(t, reasons[2], ErrStaleTimestamp)
	assert.Nil(t, Reason(post(nil, "")))
}

func TestStatusCode(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200}, {ErrAlreadyHandled, 200}, {ErrMethodNotAllowed, 405}, {ErrUnsupportedMediaType, 415},
		{ErrBodyTooLarge, 413}, {ErrBodyRead, 400}, {errDuplicateSignature, 400}, {signer.ErrBadTimestamp, 400},
		{errInFuture, 401}, {signer.ErrMalformedSignature, 401}, {ErrReplayed, 401}, {ErrInFlight, 409},
		{ErrRateLimited, 429}, {ErrReplayStoreFull, 503}, {ErrReplayStore, 503}, {errors.New("other"), 500},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, StatusCode(tt.err), "%v", tt.err)
	}
}

func TestLogsNeverHoldSecretsSignaturesOrBodies(t *testing.T) {
	var logs strings.Builder
	next := &recorder{}
	h := newVerifier(t, CallbackConfig{Logger: jsonLogger(&logs)}).Handler(next)
	valid := signedBody(t, productionKey, 0)
	serve(h, post(valid, "production"))                        // accepted
	serve(h, post(valid, "production"))                        // acknowledged
	serve(h, post(signedBody(t, sandboxKey, 0), "production")) // refused
	serve(h, post([]byte(`{"signature":"x","timestamp":"y","FullName":"ADA"}`), ""))

	out := logs.String()
	assert.Contains(t, out, `"level":"DEBUG","msg":"smileguard: callback accepted"`)
	assert.Contains(t, out, `"key_id":"production-2026"`)
	assert.Contains(t, out, `"msg":"smileguard: duplicate delivery acknowledged"`)
	assert.Contains(t, out, `"level":"WARN","msg":"smileguard: callback rejected"`)
	assert.Contains(t, out, `"reason":"signer: invalid signature"`)
	for _, secret := range []string{productionKey.APIKey, sandboxKey.APIKey, "ADA LOVELACE", "ADA", "ResultText"} {
		assert.NotContains(t, out, secret)
	}
	sig := signer.Sign(productionKey.APIKey, productionKey.PartnerID, signer.FormatTimestamp(testNow))
	assert.NotContains(t, out, sig[:16], "not even part of a signature")
}
