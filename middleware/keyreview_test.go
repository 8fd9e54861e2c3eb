package middleware

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/signer"
)

func TestGuardLogsKeysDueForRotationAtStartUp(t *testing.T) {
	const day = 24 * time.Hour
	keys := []signer.Key{
		{ID: "prod-old", PartnerID: "1622", APIKey: "old-production-secret", Environment: signer.Production, CreatedAt: testNow.Add(-120 * day)},
		{ID: "prod-new", PartnerID: "1622", APIKey: "new-production-secret", Environment: signer.Production, CreatedAt: testNow.Add(-3 * day)},
		{ID: "sandbox-retiring", PartnerID: "1622", APIKey: "retiring-sandbox-secret", Environment: signer.Sandbox, NotAfter: testNow.Add(2 * day)},
		{ID: "prod-unknown-age", PartnerID: "1622", APIKey: "ageless-secret", Environment: signer.Production},
	}
	ring, err := signer.NewKeyring(keys...)
	require.NoError(t, err)

	tests := []struct {
		name   string
		policy signer.KeyPolicy
		want   []string // one record per key, in order
	}{
		{"Smile ID's 90 days", signer.KeyPolicy{}, []string{
			`"key":{"id":"prod-old","environment":"production","problem":"older than the rotation age","age_days":120}`,
			`"key":{"id":"sandbox-retiring","environment":"sandbox","problem":"expires soon","not_after":"2026-11-23T10:00:00Z"}`,
		}},
		{"a 2-day rotation", signer.KeyPolicy{MaxAge: 2 * day, ExpiryWarning: time.Hour}, []string{
			`"key":{"id":"prod-old","environment":"production","problem":"older than the rotation age","age_days":120}`,
			`"key":{"id":"prod-new","environment":"production","problem":"older than the rotation age","age_days":3}`,
		}},
		{"both checks off", signer.KeyPolicy{MaxAge: -1, ExpiryWarning: -1}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs strings.Builder
			_, err := NewGuard(GuardConfig{
				Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
				Callback:  CallbackConfig{Keyring: ring, Now: func() time.Time { return testNow }, KeyPolicy: tt.policy},
				Logger:    jsonLogger(&logs),
			})
			require.NoError(t, err)
			var records []string
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if strings.Contains(line, "smileguard: API key needs attention") {
					assert.Contains(t, line, `"level":"WARN"`)
					records = append(records, line)
				}
			}
			require.Len(t, records, len(tt.want))
			for i, want := range tt.want {
				assert.Contains(t, records[i], want)
			}
			for _, k := range keys {
				assert.NotContains(t, logs.String(), k.APIKey)
			}
		})
	}
}

func TestCallbackVerifierReviewsKeysWithoutALogger(t *testing.T) {
	// No logger, no logging, no failure: the review never blocks start-up.
	ring, err := signer.NewKeyring(signer.Key{ID: "expired", PartnerID: "1", APIKey: "k", Environment: signer.Sandbox, NotAfter: testNow.Add(-time.Hour)},
		signer.Key{ID: "ok", PartnerID: "1", APIKey: "k2", Environment: signer.Sandbox})
	require.NoError(t, err)
	_, err = NewCallbackVerifier(CallbackConfig{Keyring: ring, Now: func() time.Time { return testNow }})
	require.NoError(t, err)
}
