package signer

import (
	"crypto/hmac"
	"crypto/sha256"
	"strings"
	"time"
)

// A MAC is what a Smile ID signature encodes: the 32-byte HMAC-SHA256 of
// timestamp + partner id + "sid_request". A MAC has exactly one accepted
// spelling (standard, padded base64; see [ParseSignature]), so it names a
// (signature, timestamp) pair as well as the signature text does. It is not
// secret, but like a signature it should not be logged whole.
type MAC [sha256.Size]byte

// ParseSignature decodes signature as [Verify] accepts it: standard, padded
// base64 of exactly 32 bytes, with zero padding bits. Anything else is an
// error wrapping [ErrMalformedSignature]. It does not allocate.
func ParseSignature(signature []byte) (MAC, error) {
	mac, ok := decodeSignature(signature)
	if !ok {
		return MAC{}, ErrMalformedSignature
	}
	return mac, nil
}

// VerifyOptions says which keys [Keyring.VerifyMAC] tries, and how.
type VerifyOptions struct {
	// Now is the instant the keys' validity windows are judged at. Zero
	// means [time.Now].
	Now time.Time

	// Environments are the environments whose keys are tried. Nil means
	// every environment.
	Environments []Environment

	// TrimmedPartnerID also tries, for each key whose PartnerID has
	// leading zeros, the partner id without them ("0042" as "42"): Smile
	// ID's v3 API sends the partner id that way, and does not say which
	// spelling its webhooks sign.
	TrimmedPartnerID bool
}

// VerifyMAC returns the key that produced mac for timestamp, trying the
// keys opts selects. It is [Keyring.Verify] for callers that hold the decoded
// signature ([ParseSignature]), such as a verifier reading it from a body
// or a header, and it does not allocate. The error wraps
// [ErrInvalidSignature], and [ErrNoUsableKey] where no key was tried.
func (k *Keyring) VerifyMAC(timestamp string, mac MAC, opts VerifyOptions) (Key, error) {
	set := k.keys.Load()
	if set == nil {
		return Key{}, ErrNoUsableKey
	}
	now := opts.Now
	if now.IsZero() && set.windowed {
		now = time.Now()
	}
	// One pool Get for every key tried, and the message built once per
	// distinct partner id: the loop costs little more than its HMACs.
	var states *macStates
	envs := maskOf(opts.Environments)
	for i := range set.keys {
		key := &set.keys[i]
		if set.envs[i]&envs == 0 || set.windowed && !key.UsableAt(now) {
			continue
		}
		if states == nil {
			states = set.macs.get()
		}
		if hmac.Equal(states.sum(i, key.PartnerID, timestamp), mac[:]) ||
			opts.TrimmedPartnerID && set.trimmed[i] != "" && hmac.Equal(states.sum(i, set.trimmed[i], timestamp), mac[:]) {
			set.macs.put(states)
			return *key, nil
		}
	}
	if states == nil {
		return Key{}, ErrNoUsableKey
	}
	set.macs.put(states)
	return Key{}, ErrInvalidSignature
}

// TrimPartnerID returns partnerID without its leading zeros, as Smile ID's
// v3 API wants it ("0042" is "42"). A partner id of zeros alone is
// returned as is.
func TrimPartnerID(partnerID string) string {
	trimmed := strings.TrimLeft(partnerID, "0")
	if trimmed == "" {
		return partnerID
	}
	return trimmed
}
