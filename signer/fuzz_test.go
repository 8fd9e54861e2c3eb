package signer

import (
	"strings"
	"testing"
)

// FuzzSignVerify checks that Sign and Verify agree, that the keyring agrees
// with them, and that changing one byte of any input makes verification
// fail.
func FuzzSignVerify(f *testing.F) {
	// A key as Smile ID issues them, flipping the lowest bit of the first
	// byte.
	f.Add("513205c6-c420-44e5-ab85-370986dc3f19", "1622", "2026-11-21T10:00:00.000Z", uint8(0), uint8(1))
	// The official Java SDK's vector, changing a letter's case.
	f.Add("apiKey", "partner", "2023-02-13T15:07:42.214Z", uint8(7), uint8(0x20))
	// A key that is not ASCII, and a unix timestamp.
	f.Add("ключ-🔑", "7", "1763719200", uint8(3), uint8(0x80))
	// Empty partner id and timestamp: a change must still be noticed.
	f.Add("k", "", "", uint8(0), uint8(0xff))
	// A partner id with leading zeros, which the keyring also tries
	// without them only when asked.
	f.Add("zeros-key", "0042", "2026-11-21T10:00:00.000Z", uint8(1), uint8(0x01))
	// A key longer than SHA-256's block, which HMAC hashes first.
	f.Add(strings.Repeat("k", 65), "1622", "2026-11-21 10:00:00 +0000", uint8(64), uint8(0x10))
	f.Fuzz(func(t *testing.T, apiKey, partnerID, timestamp string, pos, flip uint8) {
		if apiKey == "" {
			return // Verify refuses an empty key by design
		}
		sig := Sign(apiKey, partnerID, timestamp)
		if !Verify(apiKey, partnerID, timestamp, sig) {
			t.Fatalf("Verify refuses Sign's own signature")
		}
		if flip == 0 {
			flip = 1
		}
		change := func(s string) string {
			if s == "" {
				return string([]byte{flip})
			}
			b := []byte(s)
			b[int(pos)%len(b)] ^= flip
			return string(b)
		}
		if Verify(change(apiKey), partnerID, timestamp, sig) && change(apiKey) != apiKey {
			t.Fatalf("a changed API key verifies")
		}
		if Verify(apiKey, change(partnerID), timestamp, sig) {
			t.Fatalf("a changed partner id verifies")
		}
		if Verify(apiKey, partnerID, change(timestamp), sig) {
			t.Fatalf("a changed timestamp verifies")
		}
		if Verify(apiKey, partnerID, timestamp, change(sig)) {
			t.Fatalf("a changed signature verifies")
		}
		key := Key{ID: "k", PartnerID: partnerID, APIKey: apiKey, Environment: Sandbox}
		if ring, err := NewKeyring(key); err == nil {
			if _, err := ring.Verify(timestamp, sig); err != nil {
				t.Fatalf("keyring refuses a good signature: %v", err)
			}
			if _, err := ring.Verify(timestamp, change(sig)); err == nil {
				t.Fatalf("keyring accepts a changed signature")
			}
		}
	})
}
