package signer

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/internal/syncbuf"
)

// keyRecords returns the key review records logged to logs so far.
func keyRecords(logs *syncbuf.Buffer) []string {
	var out []string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "smileguard: API key needs attention") {
			out = append(out, line)
		}
	}
	return out
}

func TestTransportLogsItsKeyOnceWhenDueForRotation(t *testing.T) {
	old := transportKey
	old.CreatedAt = transportTime.Add(-100 * 24 * time.Hour)
	var logs syncbuf.Buffer
	tr := &Transport{Base: &stubTransport{}, Key: old, Now: tickingClock(), Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	send := func() {
		req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/x", "")
		resp, err := tr.RoundTrip(req)
		require.NoError(t, err)
		resp.Body.Close()
	}

	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); send() }()
	}
	wg.Wait()
	send()
	records := keyRecords(&logs)
	require.Len(t, records, 1, "one record per key, concurrent first requests included")
	assert.Contains(t, records[0], `"level":"WARN"`)
	assert.Contains(t, records[0], `"key":{"id":"sandbox-t","environment":"sandbox","problem":"older than the rotation age","age_days":100}`)

	tr.Hosts = []string{"testapi.smileidentity.com"} // the state changes, the key does not
	send()
	assert.Len(t, keyRecords(&logs), 1)

	expiring := old
	expiring.ID, expiring.APIKey, expiring.CreatedAt = "sandbox-t2", "another-API-key", time.Time{}
	expiring.NotAfter = transportTime.Add(24 * time.Hour)
	tr.Key = expiring
	send()
	records = keyRecords(&logs)
	require.Len(t, records, 2, "a new key is reviewed")
	assert.Contains(t, records[1], `"id":"sandbox-t2","environment":"sandbox","problem":"expires soon"`)

	assert.NotContains(t, logs.String(), old.APIKey)
	assert.NotContains(t, logs.String(), expiring.APIKey)
}

func TestTransportKeyReviewNeedsALoggerAndAReason(t *testing.T) {
	old := transportKey
	old.CreatedAt = transportTime.Add(-100 * 24 * time.Hour)
	tests := []struct {
		name   string
		key    Key
		policy KeyPolicy
		logs   int
	}{
		{"old key", old, KeyPolicy{}, 1},
		{"healthy key", transportKey, KeyPolicy{}, 0},
		{"age check off", old, KeyPolicy{MaxAge: -1}, 0},
		{"longer rotation", old, KeyPolicy{MaxAge: 180 * 24 * time.Hour}, 0},
		{"invalid key: refused, not reviewed", Key{ID: "broken", PartnerID: "085", Environment: Sandbox, CreatedAt: old.CreatedAt}, KeyPolicy{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncbuf.Buffer
			tr := &Transport{Base: &stubTransport{}, Key: tt.key, Now: tickingClock(), KeyPolicy: tt.policy,
				Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
			req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/x", "")
			if resp, err := tr.RoundTrip(req); err == nil {
				resp.Body.Close()
			}
			assert.Len(t, keyRecords(&logs), tt.logs)
		})
	}

	// No logger: nothing to log to, and nothing fails.
	tr := &Transport{Base: &stubTransport{}, Key: old, Now: tickingClock()}
	req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/x", "")
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()
}

func TestTransportInUsePrintsNoAPIKey(t *testing.T) {
	old := transportKey
	old.CreatedAt = transportTime.Add(-100 * 24 * time.Hour) // reviewed and logged on first use
	var logs syncbuf.Buffer
	tr := &Transport{Base: &stubTransport{}, Key: old, Now: tickingClock(), Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	req, _ := newRequest(t, http.MethodGet, "https://testapi.smileidentity.com/v2/x", "")
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	resp.Body.Close()

	client := &http.Client{Transport: tr}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10v"} {
		out := fmt.Sprintf(verb, tr)
		assert.NotContains(t, out, old.APIKey, "the Transport, %s", verb)
		assert.NotContains(t, out, fmt.Sprintf("%x", old.APIKey)[:16], "the Transport, %s", verb)
		assert.NotContains(t, fmt.Sprintf(verb, client), old.APIKey, "an http.Client, %s", verb)
		// By value, Format is not called: fmt walks the fields itself.
		assert.NotContains(t, fmt.Sprintf(verb, *tr), old.APIKey, "the Transport by value, %s", verb)
		assert.NotContains(t, fmt.Sprintf(verb, struct{ T Transport }{*tr}), old.APIKey, "a struct holding the Transport, %s", verb)
	}
	assert.Equal(t, `&signer.Transport{Key: signer.Key{ID: "sandbox-t", PartnerID: "085", Environment: "sandbox", APIKey: [REDACTED], `+
		`CreatedAt: 2026-08-13T10:00:00Z}, Hosts: [], SourceSDK: "", SourceSDKVersion: "", VerifyResponses: false}`, fmt.Sprint(tr))
	slog.New(slog.NewTextHandler(&logs, nil)).Info("configured", "transport", tr, "by_value", *tr)
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("configured", "transport", tr, "by_value", *tr)
	assert.NotContains(t, logs.String(), old.APIKey)
	assert.Equal(t, "<nil>", fmt.Sprint((*Transport)(nil)))
}
