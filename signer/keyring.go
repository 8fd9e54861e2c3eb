package signer

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"time"
)

// A Keyring holds the API keys a receiver accepts: one or more per
// environment, so that a key can be rotated without refusing callbacks still
// signed with the old one.
//
// [Keyring.Verify] is the method most callers want. [Keyring.Replace]
// swaps the whole set at once. A Keyring is safe for concurrent use; the zero value holds no keys
// and verifies nothing.
type Keyring struct {
	keys atomic.Pointer[keySet]
}

// keySet is an immutable snapshot of a keyring's keys, with one pool of
// the precomputed HMAC state of all of them.
type keySet struct {
	keys     []Key
	trimmed  []string  // per key: the partner id without leading zeros, or "" if it has none
	envs     []envMask // per key: its environment's bit
	macs     *macPool  // the hashes are in the order of keys
	windowed bool      // some key has a NotBefore or a NotAfter: the time matters
}

// NewKeyring returns a keyring holding keys. It refuses (with an error
// wrapping [ErrInvalidKey] that names the key's ID, never its secret) a key
// with an empty or space-padded APIKey or PartnerID, an Environment other
// than Sandbox or Production, an ID used twice, or a NotAfter that is not
// after its NotBefore. A key with an empty ID is labelled
// "<environment>-<position>", counting from 1.
func NewKeyring(keys ...Key) (*Keyring, error) {
	k := new(Keyring)
	if err := k.Replace(keys...); err != nil {
		return nil, err
	}
	return k, nil
}

// Replace validates keys as [NewKeyring] does and, if they are all valid,
// swaps them in at once: a concurrent Verify sees either the old set or the
// new one, never a mix. On error the keyring is unchanged.
func (k *Keyring) Replace(keys ...Key) error {
	set, err := newKeySet(keys)
	if err != nil {
		return err
	}
	k.keys.Store(set)
	return nil
}

func newKeySet(keys []Key) (*keySet, error) {
	set := &keySet{keys: make([]Key, 0, len(keys)), trimmed: make([]string, 0, len(keys)), envs: make([]envMask, 0, len(keys))}
	apiKeys := make([]string, 0, len(keys))
	seen := make(map[string]bool, len(keys))
	for i, key := range keys {
		if key.ID == "" {
			key.ID = string(key.Environment) + "-" + strconv.Itoa(i+1)
		}
		if err := key.validate(); err != nil {
			return nil, err
		}
		if seen[key.ID] {
			return nil, key.invalid("ID is used by another key")
		}
		seen[key.ID] = true
		trimmed := ""
		if t := TrimPartnerID(key.PartnerID); t != key.PartnerID {
			trimmed = t
		}
		set.keys = append(set.keys, key)
		set.windowed = set.windowed || !key.NotBefore.IsZero() || !key.NotAfter.IsZero()
		set.trimmed = append(set.trimmed, trimmed)
		set.envs = append(set.envs, key.Environment.bit())
		apiKeys = append(apiKeys, key.APIKey)
	}
	set.macs = newMACPool(apiKeys)
	return set, nil
}

// Keys returns a copy of the keys the keyring holds, with their IDs as
// labelled.
func (k *Keyring) Keys() []Key {
	set := k.keys.Load()
	if set == nil {
		return nil
	}
	return append([]Key(nil), set.keys...)
}

// Verify returns the key that produced signature for timestamp, trying only
// keys of envs (all environments if none is given) that are usable now. The
// timestamp is the string exactly as received; Verify checks the signature,
// not freshness (see [ParseTimestamp]). The error wraps [ErrInvalidSignature],
// and more precisely [ErrMalformedSignature] or [ErrNoUsableKey] where they
// apply.
func (k *Keyring) Verify(timestamp, signature string, envs ...Environment) (Key, error) {
	want, ok := decodeSignature(signature)
	if !ok {
		return Key{}, ErrMalformedSignature
	}
	// A zero Now is the current time, which VerifyMAC reads only if a
	// key has a validity window.
	return k.VerifyMAC(timestamp, want, VerifyOptions{Environments: envs})
}

// VerifyAt is [Keyring.Verify] with the keys' validity windows judged at now instead
// of the current time.
func (k *Keyring) VerifyAt(now time.Time, timestamp, signature string, envs ...Environment) (Key, error) {
	want, ok := decodeSignature(signature)
	if !ok {
		return Key{}, ErrMalformedSignature
	}
	return k.VerifyMAC(timestamp, want, VerifyOptions{Now: now, Environments: envs})
}

// envMask is a set of environments, one bit each.
type envMask uint8

func (e Environment) bit() envMask {
	switch e {
	case Sandbox:
		return 1
	case Production:
		return 2
	}
	return 0
}

// maskOf returns the set of envs; none means every environment.
func maskOf(envs []Environment) envMask {
	if len(envs) == 0 {
		return ^envMask(0)
	}
	var m envMask
	for _, e := range envs {
		m |= e.bit()
	}
	return m
}

// String describes the keyring by its key IDs, never its secrets.
func (k *Keyring) String() string {
	ids := make([]string, 0)
	for _, key := range k.Keys() {
		ids = append(ids, key.ID)
	}
	return fmt.Sprintf("signer.Keyring%q", ids)
}
