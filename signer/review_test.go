package signer

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var reviewNow = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

func TestKeyReview(t *testing.T) {
	key := func(created, notAfter time.Duration) Key {
		k := Key{ID: "k", PartnerID: "1622", APIKey: "secret-value-1", Environment: Production}
		if created != 0 {
			k.CreatedAt = reviewNow.Add(-created)
		}
		if notAfter != 0 {
			k.NotAfter = reviewNow.Add(notAfter)
		}
		return k
	}
	tests := []struct {
		name    string
		key     Key
		policy  KeyPolicy
		want    KeyProblem // 0: no warning
		ageDays int64
	}{
		{"fresh key", key(10*day, 0), KeyPolicy{}, 0, 0},
		{"exactly 90 days old is still fine", key(90*day, 0), KeyPolicy{}, 0, 0},
		{"a second over 90 days is too old", key(90*day+time.Second, 0), KeyPolicy{}, KeyTooOld, 90},
		{"age unknown is never too old", key(0, 0), KeyPolicy{}, 0, 0},
		{"a shorter policy", key(31*day, 0), KeyPolicy{MaxAge: 30 * day}, KeyTooOld, 31},
		{"age check off", key(400*day, 0), KeyPolicy{MaxAge: -1}, 0, 0},
		{"expires in 15 days", key(10*day, 15*day), KeyPolicy{}, 0, 0},
		{"expires in exactly 14 days", key(10*day, 14*day), KeyPolicy{}, KeyExpiring, 10},
		{"expires in an hour", key(0, time.Hour), KeyPolicy{}, KeyExpiring, 0},
		{"a longer warning", key(0, 20*day), KeyPolicy{ExpiryWarning: 30 * day}, KeyExpiring, 0},
		{"expiry warning off", key(0, time.Hour), KeyPolicy{ExpiryWarning: -1}, 0, 0},
		{"expired a second ago", key(0, -time.Second), KeyPolicy{}, KeyExpired, 0},
		{"expired even with warnings off", key(0, -time.Second), KeyPolicy{MaxAge: -1, ExpiryWarning: -1}, KeyExpired, 0},
		{"old and expiring: expiring wins", key(120*day, 3*day), KeyPolicy{}, KeyExpiring, 120},
		{"old and expired: expired wins", key(120*day, -3*day), KeyPolicy{}, KeyExpired, 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, ok := tt.key.Review(reviewNow, tt.policy)
			if tt.want == 0 {
				assert.False(t, ok)
				assert.Equal(t, KeyWarning{}, w)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.want, w.Problem)
			assert.Equal(t, "k", w.KeyID)
			assert.Equal(t, Production, w.Environment)
			assert.Equal(t, !tt.key.CreatedAt.IsZero(), w.AgeKnown)
			assert.Equal(t, tt.ageDays, int64(w.Age/day))
			assert.Equal(t, tt.key.NotAfter, w.NotAfter)
		})
	}
	// A NotAfter of exactly now is expired: Verify refuses the key from then on.
	w, ok := Key{ID: "k", NotAfter: reviewNow}.Review(reviewNow, KeyPolicy{})
	assert.True(t, ok)
	assert.Equal(t, KeyExpired, w.Problem)
}

func TestKeyringReviewKeepsOrderAndSkipsHealthyKeys(t *testing.T) {
	ring, err := NewKeyring(
		Key{ID: "old", PartnerID: "1", APIKey: "a", Environment: Production, CreatedAt: reviewNow.Add(-100 * day)},
		Key{ID: "new", PartnerID: "1", APIKey: "b", Environment: Production, CreatedAt: reviewNow.Add(-1 * day)},
		Key{ID: "retiring", PartnerID: "1", APIKey: "c", Environment: Sandbox, NotAfter: reviewNow.Add(day)},
	)
	require.NoError(t, err)
	warnings := ring.Review(reviewNow, KeyPolicy{})
	require.Len(t, warnings, 2)
	assert.Equal(t, "old", warnings[0].KeyID)
	assert.Equal(t, KeyTooOld, warnings[0].Problem)
	assert.Equal(t, "retiring", warnings[1].KeyID)
	assert.Equal(t, KeyExpiring, warnings[1].Problem)
	assert.Nil(t, new(Keyring).Review(reviewNow, KeyPolicy{}), "an empty keyring has nothing to report")
}

func TestLogKeyWarnings(t *testing.T) {
	const secret = "the-secret-api-key"
	key := Key{ID: "prod-2026-08", PartnerID: "1622", APIKey: secret, Environment: Production,
		CreatedAt: reviewNow.Add(-100*day - time.Hour), NotAfter: reviewNow.Add(30 * day)}
	w, ok := key.Review(reviewNow, KeyPolicy{})
	require.True(t, ok)

	var out bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&out, nil))
	LogKeyWarnings(context.Background(), logger, []KeyWarning{w, w})
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2, "one record per warning")
	assert.Contains(t, lines[0], `"level":"WARN","msg":"smileguard: API key needs attention"`)
	assert.Contains(t, lines[0], `"key":{"id":"prod-2026-08","environment":"production","problem":"older than the rotation age","age_days":100,"not_after":"2026-12-21T10:00:00Z"}`)
	assert.NotContains(t, out.String(), secret)
	assert.NotContains(t, out.String(), "partner_id", "the partner id is not needed to act on it")

	LogKeyWarnings(context.Background(), nil, []KeyWarning{w}) // a nil logger is fine
	assert.Equal(t, "unknown", KeyProblem(0).String())
}
