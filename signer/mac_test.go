package signer

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseSignature(t *testing.T) {
	good := Sign("apiKey", "partner", "2023-02-13T15:07:42.214Z")
	mac, err := ParseSignature([]byte(good))
	require.NoError(t, err)
	want, ok := decodeSignature(good)
	require.True(t, ok)
	assert.Equal(t, want, mac)

	for name, sig := range map[string]string{
		"empty":                 "",
		"one character short":   good[:43],
		"unpadded":              good[:43] + "A",
		"non-zero padding bits": good[:42] + "R=",
		"URL alphabet":          "-_" + good[2:],
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSignature([]byte(sig))
			assert.True(t, errors.Is(err, ErrMalformedSignature), "err %v", err)
			assert.True(t, errors.Is(err, ErrInvalidSignature), "err %v", err)
		})
	}
}

func TestKeyringVerifyMACTrimmedPartnerID(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	zeros := Key{ID: "zeros", PartnerID: "0042", APIKey: "key-with-zeros", Environment: Production}
	plain := Key{ID: "plain", PartnerID: "42", APIKey: "key-without-zeros", Environment: Sandbox}
	ring, err := NewKeyring(zeros, plain)
	require.NoError(t, err)
	ts := FormatTimestamp(now)
	mac := func(apiKey, partner string) MAC {
		m, err := ParseSignature([]byte(Sign(apiKey, partner, ts)))
		require.NoError(t, err)
		return m
	}

	tests := []struct {
		name    string
		mac     MAC
		opts    VerifyOptions
		wantKey string
		wantErr error
	}{
		{"as configured", mac(zeros.APIKey, "0042"), VerifyOptions{Now: now}, "zeros", nil},
		{"without zeros, not asked", mac(zeros.APIKey, "42"), VerifyOptions{Now: now}, "", ErrInvalidSignature},
		{"without zeros, asked", mac(zeros.APIKey, "42"), VerifyOptions{Now: now, TrimmedPartnerID: true}, "zeros", nil},
		{"as configured, asked", mac(zeros.APIKey, "0042"), VerifyOptions{Now: now, TrimmedPartnerID: true}, "zeros", nil},
		{"zeros added are never accepted", mac(plain.APIKey, "042"), VerifyOptions{Now: now, TrimmedPartnerID: true}, "", ErrInvalidSignature},
		{"environment binding holds", mac(zeros.APIKey, "42"),
			VerifyOptions{Now: now, TrimmedPartnerID: true, Environments: []Environment{Sandbox}}, "", ErrInvalidSignature},
		{"no key of the environment", mac(zeros.APIKey, "0042"),
			VerifyOptions{Now: now.Add(time.Hour), Environments: []Environment{"nowhere"}}, "", ErrNoUsableKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ring.VerifyMAC(ts, tt.mac, tt.opts)
			if tt.wantErr != nil {
				assert.True(t, errors.Is(err, tt.wantErr), "err %v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantKey, key.ID)
		})
	}
}

func TestTrimPartnerID(t *testing.T) {
	for in, want := range map[string]string{"0042": "42", "42": "42", "0": "0", "000": "000", "1000": "1000", "": ""} {
		assert.Equal(t, want, TrimPartnerID(in), "TrimPartnerID(%q)", in)
	}
}
