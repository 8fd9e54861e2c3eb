package signer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
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

// FuzzParseSignature holds the hand-written decoder to encoding/base64's
// strict one: a signature is accepted exactly when it is the strict
// standard encoding of 32 bytes, and decodes to those bytes. One
// difference is meant: encoding/base64 skips CR and LF even when strict,
// and the decoder refuses them, so that a MAC has one spelling.
func FuzzParseSignature(f *testing.F) {
	// The Java SDK's vector, and one whose last character carries bits.
	f.Add("XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=")
	f.Add("nJ0Kz2EyJ48tEp2U2bFeKbjcas/EThpCK7agDuziG4c=")
	// The same with non-zero padding bits, which the lax decoder takes.
	f.Add("nJ0Kz2EyJ48tEp2U2bFeKbjcas/EThpCK7agDuziG4d=")
	// The URL alphabet, no padding, two padding characters, 33 bytes.
	f.Add("nJ0Kz2EyJ48tEp2U2bFeKbjcas_EThpCK7agDuziG4c=")
	f.Add("nJ0Kz2EyJ48tEp2U2bFeKbjcas/EThpCK7agDuziG4cA")
	f.Add("nJ0Kz2EyJ48tEp2U2bFeKbjcas/EThpCK7agDuziGw==")
	f.Add("nJ0Kz2EyJ48tEp2U2bFeKbjcas/EThpCK7agDuziG4cAAAA")
	// White space inside, and a byte outside ASCII.
	f.Add("nJ0Kz2EyJ48tEp2U2bFe\nbjcas/EThpCK7agDuziG4c=")
	// A line break that encoding/base64 skips, leaving 32 bytes (found by
	// the fuzzer in CI, against an oracle that did not know it), and the
	// same past the 44 characters of a signature.
	f.Add("00000000000000000000\n00000000000000000000000=")
	f.Add("XxThLHZy2ij1WINkqNEP\r\ngzVs9RvUDHWlebDYzprqS74=")
	f.Add("nJ0Kz2EyJ48tEp2U2bFe\xffbjcas/EThpCK7agDuziG4c=")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		want, err := base64.StdEncoding.Strict().DecodeString(s)
		wantOK := err == nil && len(want) == 32 && !strings.ContainsAny(s, "\r\n")
		got, gotErr := ParseSignature([]byte(s))
		if wantOK != (gotErr == nil) {
			t.Fatalf("%q: ParseSignature error %v, strict base64 %d bytes, %v", s, gotErr, len(want), err)
		}
		fromString, ok := decodeSignature(s)
		if ok != wantOK || fromString != got {
			t.Fatalf("%q: the string and []byte decoders disagree", s)
		}
		if wantOK && !bytes.Equal(got[:], want) {
			t.Fatalf("%q: decoded %x, want %x", s, got, want)
		}
	})
}
