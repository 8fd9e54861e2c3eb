package signer

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSignMatchesVectors(t *testing.T) {
	vectors := loadVectors(t)
	require.GreaterOrEqual(t, len(vectors), 14)
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			assert.Equal(t, v.Signature, Sign(v.APIKey, v.PartnerID, v.Timestamp))
			assert.True(t, Verify(v.APIKey, v.PartnerID, v.Timestamp, v.Signature))
		})
	}
}

func TestVerifyRefuses(t *testing.T) {
	const (
		apiKey    = "513205c6-c420-44e5-ab85-370986dc3f19"
		partnerID = "1622"
		timestamp = "2026-11-21T10:00:00.000Z"
		good      = "nJ0Kz2EyJ48tEp2U2bFeKbjcas/EThpCK7agDuziG4c="
	)
	require.True(t, Verify(apiKey, partnerID, timestamp, good))
	raw, err := base64.StdEncoding.DecodeString(good)
	require.NoError(t, err)
	tests := []struct {
		name                                    string
		apiKey, partnerID, timestamp, signature string
	}{
		{"empty signature", apiKey, partnerID, timestamp, ""},
		{"empty API key", "", partnerID, timestamp, Sign("", partnerID, timestamp)},
		{"other API key", apiKey + "x", partnerID, timestamp, good},
		{"other partner id", apiKey, "085", timestamp, good},
		{"partner id 85 for 085's signature", apiKey, "85", "2026-11-21T10:00:00.000Z", "god6JxrCoop75JLqY38Fp3CPuk+HqBLSu6iBp5zA9YQ="},
		{"re-formatted timestamp", apiKey, partnerID, "2026-11-21T10:00:00Z", good},
		{"unpadded", apiKey, partnerID, timestamp, strings.TrimRight(good, "=")},
		{"URL alphabet", apiKey, partnerID, timestamp, base64.URLEncoding.EncodeToString(raw)},
		{"non-canonical padding bits", apiKey, partnerID, timestamp, good[:42] + "d="},
		{"not base64", apiKey, partnerID, timestamp, strings.Repeat("!", 44)},
		{"white space inside", apiKey, partnerID, timestamp, good[:20] + "\n" + good[21:]},
		{"31 bytes", apiKey, partnerID, timestamp, base64.StdEncoding.EncodeToString(raw[:31])},
		{"33 bytes", apiKey, partnerID, timestamp, base64.StdEncoding.EncodeToString(append(raw, 0))},
		{"hex instead of base64", apiKey, partnerID, timestamp, "9c9d0acf6132278f2d129d94d9b15e29b8dc6acfc4e1a4282bb6a00eece21b87"},
		{"trailing newline", apiKey, partnerID, timestamp, good + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.False(t, Verify(tt.apiKey, tt.partnerID, tt.timestamp, tt.signature))
		})
	}
}

func TestNonCanonicalPaddingDecodesToSameBytes(t *testing.T) {
	// The case above is only meaningful if the lax decoder would have
	// accepted it as the same MAC.
	const good = "nJ0Kz2EyJ48tEp2U2bFeKbjcas/EThpCK7agDuziG4c="
	a, err := base64.StdEncoding.DecodeString(good)
	require.NoError(t, err)
	b, err := base64.StdEncoding.DecodeString(good[:42] + "d=")
	require.NoError(t, err)
	require.Equal(t, a, b)
}
