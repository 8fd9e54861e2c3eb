package middleware

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/signer"
)

// TestKeyRotationRunbook walks the runbook of package signer's
// documentation ("Rotating a key") step by step with a key file, a keyring
// and the Guard: add the new key, deploy, move the integrations, set
// NotAfter on the old key, remove it.
func TestKeyRotationRunbook(t *testing.T) {
	const day = 24 * time.Hour
	now := testNow
	clock := func() time.Time { return now }
	path := filepath.Join(t.TempDir(), "smileid-keys.json")
	type entry struct {
		ID          string `json:"id"`
		PartnerID   string `json:"partner_id"`
		Environment string `json:"environment"`
		APIKey      string `json:"api_key"`
		CreatedAt   string `json:"created_at,omitempty"`
		NotAfter    string `json:"not_after,omitempty"`
	}
	writeKeys := func(entries ...entry) {
		data, err := json.Marshal(map[string][]entry{"keys": entries})
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, data, 0o600))
		require.NoError(t, os.Chmod(path, 0o600))
	}
	// deploy reads the key file as a restart would, swapping the keys in.
	var ring *signer.Keyring
	deploy := func() {
		keys, err := signer.LoadKeysFile(path)
		require.NoError(t, err)
		if ring == nil {
			ring, err = signer.NewKeyring(keys...)
		} else {
			err = ring.Replace(keys...)
		}
		require.NoError(t, err)
	}
	review := func() map[string]signer.KeyProblem {
		problems := map[string]signer.KeyProblem{}
		for _, w := range ring.Review(now, signer.KeyPolicy{}) {
			problems[w.KeyID] = w.Problem
		}
		return problems
	}

	oldKey := entry{ID: "prod-2026-08", PartnerID: "1622", Environment: "production", APIKey: "old-production-api-key",
		CreatedAt: now.Add(-95 * day).Format(time.RFC3339)}
	newKey := entry{ID: "prod-2026-11", PartnerID: "1622", Environment: "production", APIKey: "new-production-api-key",
		CreatedAt: now.Format(time.RFC3339)}
	signedBy := func(e entry) signer.Key {
		return signer.Key{ID: e.ID, PartnerID: e.PartnerID, APIKey: e.APIKey, Environment: signer.Environment(e.Environment)}
	}

	// Before: one key, 95 days old. The guard says so at start-up.
	writeKeys(oldKey)
	deploy()
	var logs strings.Builder
	g, err := NewGuard(GuardConfig{
		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
		Callback:  CallbackConfig{Keyring: ring, Now: clock},
		Logger:    jsonLogger(&logs),
	})
	require.NoError(t, err)
	assert.Contains(t, logs.String(), `"key":{"id":"prod-2026-08","environment":"production","problem":"older than the rotation age","age_days":95}`)
	next := &recorder{}
	h := g.Handler(next)
	callback := func(e entry) int {
		r := post(signedBody(t, signedBy(e), now.Sub(testNow)), "")
		r.RemoteAddr = "52.213.46.74:40000"
		return serve(h, r).Code
	}
	require.Equal(t, 200, callback(oldKey))

	// 1-2. Add the new key beside the old one and deploy: both verify.
	now = now.Add(time.Hour)
	writeKeys(oldKey, newKey)
	deploy()
	assert.Equal(t, 200, callback(oldKey), "callbacks for jobs signed with the old key")
	assert.Equal(t, 200, callback(newKey), "callbacks for jobs signed with the new key")

	// 3. Move the integrations to the new key. Callbacks for older jobs
	// still come signed with the old one.
	now = now.Add(2 * day)
	assert.Equal(t, 200, callback(oldKey))
	assert.Equal(t, 200, callback(newKey))

	// 4. Set NotAfter on the old key, far enough ahead for the callbacks of
	// the last jobs sent with it, and deploy. Review now says it expires.
	retiring := oldKey
	retiring.NotAfter = now.Add(7 * day).Format(time.RFC3339)
	writeKeys(retiring, newKey)
	deploy()
	assert.Equal(t, map[string]signer.KeyProblem{"prod-2026-08": signer.KeyExpiring}, review())
	now = now.Add(7*day - time.Second)
	assert.Equal(t, 200, callback(oldKey), "until NotAfter the old key still verifies")
	now = now.Add(time.Second)
	assert.Equal(t, 401, callback(oldKey), "from NotAfter on it is refused")
	assert.Equal(t, 200, callback(newKey))
	assert.Equal(t, map[string]signer.KeyProblem{"prod-2026-08": signer.KeyExpired}, review(), "remove it")

	// 5. Remove the old key and deploy (then revoke it in the portal).
	now = now.Add(time.Minute)
	writeKeys(newKey)
	deploy()
	assert.Equal(t, 401, callback(oldKey))
	assert.Equal(t, 200, callback(newKey))
	assert.Empty(t, review(), "nothing left to do until the new key is 90 days old")
	now = now.Add(81*day - time.Minute)
	assert.Equal(t, map[string]signer.KeyProblem{"prod-2026-11": signer.KeyTooOld}, review(), "and the cycle starts again")

	assert.Equal(t, 8, next.count(), "every 200 above was handled")
	for _, e := range []entry{oldKey, newKey} {
		assert.NotContains(t, logs.String(), e.APIKey)
	}
}
