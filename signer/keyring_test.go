package signer

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testTimestamp = "2026-11-21T10:00:00.000Z"

var (
	sandboxKey    = Key{ID: "sandbox-1", PartnerID: "1622", APIKey: "sandbox-secret-1", Environment: Sandbox}
	productionKey = Key{ID: "production-1", PartnerID: "1622", APIKey: "production-secret-1", Environment: Production}
)

func sign(k Key) string { return Sign(k.APIKey, k.PartnerID, testTimestamp) }

func TestNewKeyringRefuses(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		keys   []Key
		reason string
	}{
		{"empty API key", []Key{{ID: "a", PartnerID: "1", Environment: Sandbox}}, `"a": APIKey is empty`},
		{"API key with a trailing newline", []Key{{ID: "a", PartnerID: "1", APIKey: "s3cr3t\n", Environment: Sandbox}}, `"a": APIKey has leading or trailing white space`},
		{"empty partner id", []Key{{ID: "a", APIKey: "s3cr3t", Environment: Sandbox}}, `"a": PartnerID is empty`},
		{"partner id with spaces", []Key{{ID: "a", PartnerID: " 1", APIKey: "s3cr3t", Environment: Sandbox}}, `"a": PartnerID has leading`},
		{"no environment", []Key{{ID: "a", PartnerID: "1", APIKey: "s3cr3t"}}, `"a": Environment is empty: it must be "sandbox" or "production"`},
		{"unknown environment", []Key{{ID: "a", PartnerID: "1", APIKey: "s3cr3t", Environment: "live"}}, `"a": Environment is neither "sandbox" nor "production"`},
		{"capitalised environment", []Key{{ID: "a", PartnerID: "1", APIKey: "s3cr3t", Environment: "Sandbox"}}, `"a": Environment must be "sandbox" or "production", in lower case`},
		{"duplicate ID", []Key{sandboxKey, {ID: "sandbox-1", PartnerID: "1", APIKey: "s3cr3t", Environment: Production}}, `"sandbox-1": ID is used by another key`},
		{"generated label colliding with an ID", []Key{{ID: "sandbox-2", PartnerID: "1", APIKey: "s3cr3t", Environment: Sandbox}, {PartnerID: "1", APIKey: "s3cr3t", Environment: Sandbox}}, `"sandbox-2": ID is used`},
		{"NotAfter before NotBefore", []Key{{ID: "a", PartnerID: "1", APIKey: "s3cr3t", Environment: Sandbox, NotBefore: t0, NotAfter: t0.Add(-time.Second)}}, `"a": NotAfter is not after NotBefore`},
		{"empty window", []Key{{ID: "a", PartnerID: "1", APIKey: "s3cr3t", Environment: Sandbox, NotBefore: t0, NotAfter: t0}}, `NotAfter is not after NotBefore`},
		{"second key bad", []Key{sandboxKey, {ID: "b", PartnerID: "1", Environment: Sandbox}}, `"b": APIKey is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := NewKeyring(tt.keys...)
			require.ErrorIs(t, err, ErrInvalidKey)
			assert.Nil(t, k)
			assert.Contains(t, err.Error(), tt.reason)
			assert.True(t, strings.HasPrefix(err.Error(), "signer: "))
			for _, key := range tt.keys {
				if key.APIKey != "" {
					assert.NotContains(t, err.Error(), strings.TrimSpace(key.APIKey), "no secret in errors")
				}
			}
		})
	}
}

func TestNewKeyringLabelsKeysWithoutID(t *testing.T) {
	k, err := NewKeyring(Key{PartnerID: "1", APIKey: "a", Environment: Sandbox}, Key{PartnerID: "1", APIKey: "b", Environment: Production})
	require.NoError(t, err)
	keys := k.Keys()
	require.Len(t, keys, 2)
	assert.Equal(t, "sandbox-1", keys[0].ID)
	assert.Equal(t, "production-2", keys[1].ID)
}

func TestKeyringVerify(t *testing.T) {
	ring, err := NewKeyring(sandboxKey, productionKey)
	require.NoError(t, err)
	tests := []struct {
		name      string
		signature string
		envs      []Environment
		wantID    string
		wantErr   error
	}{
		{"sandbox signature, any environment", sign(sandboxKey), nil, "sandbox-1", nil},
		{"production signature, any environment", sign(productionKey), nil, "production-1", nil},
		{"sandbox signature, sandbox only", sign(sandboxKey), []Environment{Sandbox}, "sandbox-1", nil},
		{"sandbox signature, production only", sign(sandboxKey), []Environment{Production}, "", ErrInvalidSignature},
		{"production signature, sandbox only", sign(productionKey), []Environment{Sandbox}, "", ErrInvalidSignature},
		{"both environments listed", sign(productionKey), []Environment{Sandbox, Production}, "production-1", nil},
		{"unknown environment", sign(sandboxKey), []Environment{"live"}, "", ErrNoUsableKey},
		{"foreign key", Sign("other", "1622", testTimestamp), nil, "", ErrInvalidSignature},
		{"malformed", "not a signature", nil, "", ErrMalformedSignature},
		{"empty", "", nil, "", ErrMalformedSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := ring.Verify(testTimestamp, tt.signature, tt.envs...)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				require.ErrorIs(t, err, ErrInvalidSignature, "every verify failure is an invalid signature")
				assert.Equal(t, Key{}, key)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, key.ID)
		})
	}
}

func TestKeyringVerifyUsesTheTimestampAsReceived(t *testing.T) {
	ring, err := NewKeyring(sandboxKey)
	require.NoError(t, err)
	_, err = ring.Verify("2026-11-21T10:00:00Z", sign(sandboxKey)) // same instant, other spelling
	require.ErrorIs(t, err, ErrInvalidSignature)
}

func TestKeyringRotation(t *testing.T) {
	cutover := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	retire := cutover.Add(72 * time.Hour)
	oldKey := Key{ID: "old", PartnerID: "1622", APIKey: "old-secret", Environment: Production, NotAfter: retire}
	newKey := Key{ID: "new", PartnerID: "1622", APIKey: "new-secret", Environment: Production, NotBefore: cutover}
	ring, err := NewKeyring(oldKey, newKey)
	require.NoError(t, err)

	verifyAt := func(at time.Time, k Key) (string, error) {
		got, err := ring.VerifyAt(at, testTimestamp, sign(k), Production)
		return got.ID, err
	}
	tests := []struct {
		name    string
		at      time.Time
		key     Key
		wantID  string
		wantErr error
	}{
		{"before the cutover the old key verifies", cutover.Add(-time.Hour), oldKey, "old", nil},
		{"before the cutover the new key is not yet valid", cutover.Add(-time.Hour), newKey, "", ErrInvalidSignature},
		{"at the cutover the new key verifies", cutover, newKey, "new", nil},
		{"during the overlap the old key still verifies", retire.Add(-time.Nanosecond), oldKey, "old", nil},
		{"during the overlap the new key verifies", retire.Add(-time.Nanosecond), newKey, "new", nil},
		{"at NotAfter the old key is retired", retire, oldKey, "", ErrInvalidSignature},
		{"after NotAfter the new key verifies", retire.Add(time.Hour), newKey, "new", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := verifyAt(tt.at, tt.key)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantID, id)
		})
	}

	onlyOld, err := NewKeyring(oldKey)
	require.NoError(t, err)
	_, err = onlyOld.VerifyAt(retire, testTimestamp, sign(oldKey))
	require.ErrorIs(t, err, ErrNoUsableKey, "a ring whose only key is retired has no usable key")
}

func TestKeyringZeroValueVerifiesNothing(t *testing.T) {
	var ring Keyring
	_, err := ring.Verify(testTimestamp, sign(sandboxKey))
	require.ErrorIs(t, err, ErrNoUsableKey)
	assert.Empty(t, ring.Keys())
}

func TestKeyringReplace(t *testing.T) {
	ring, err := NewKeyring(sandboxKey)
	require.NoError(t, err)
	require.Error(t, ring.Replace(Key{ID: "bad"}))
	_, err = ring.Verify(testTimestamp, sign(sandboxKey))
	require.NoError(t, err, "a refused Replace leaves the ring unchanged")

	require.NoError(t, ring.Replace(productionKey))
	_, err = ring.Verify(testTimestamp, sign(sandboxKey))
	require.ErrorIs(t, err, ErrInvalidSignature)
	got, err := ring.Verify(testTimestamp, sign(productionKey))
	require.NoError(t, err)
	assert.Equal(t, "production-1", got.ID)
}

// TestKeyringReplaceIsAtomic swaps between two sets while reading: every
// read must see one whole set. Set A holds a1 and a2, set B holds b1 and
// b2; Keys returning a1 with b2 would reveal a mix.
func TestKeyringReplaceIsAtomic(t *testing.T) {
	mk := func(id string, env Environment) Key {
		return Key{ID: id, PartnerID: "1", APIKey: "secret-" + id, Environment: env}
	}
	setA := []Key{mk("a1", Sandbox), mk("a2", Production)}
	setB := []Key{mk("b1", Sandbox), mk("b2", Production)}
	ring, err := NewKeyring(setA...)
	require.NoError(t, err)

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			set := setA
			if i%2 == 0 {
				set = setB
			}
			if err := ring.Replace(set...); err != nil {
				t.Error(err) // not require: this is not the test's goroutine
				return
			}
		}
	}()
	errs := make(chan error, 4)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 2000; i++ {
				keys := ring.Keys()
				if len(keys) != 2 || keys[0].ID[0] != keys[1].ID[0] {
					errs <- errors.New("Keys saw a mix of two sets")
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestKeyringConcurrentVerify(t *testing.T) {
	ring, err := NewKeyring(sandboxKey, productionKey)
	require.NoError(t, err)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				k, err := ring.Verify(testTimestamp, sign(productionKey))
				if err != nil || k.ID != "production-1" {
					t.Errorf("got %v, %v", k.ID, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestKeyringVerifyAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	ring, err := NewKeyring(sandboxKey, productionKey)
	require.NoError(t, err)
	sig := sign(productionKey)
	_, _ = ring.Verify(testTimestamp, sig) // warm the pools
	allocs := testing.AllocsPerRun(200, func() { _, _ = ring.Verify(testTimestamp, sig) })
	assert.Zero(t, allocs)
}

// TestKeyringVerifyBuildsEachMessageRight mixes partner ids, with and
// without leading zeros, across the keys of one snapshot: the message
// built once per partner id must be the one each key is tried with.
func TestKeyringVerifyBuildsEachMessageRight(t *testing.T) {
	partners := []string{"0042", "1622", "0042", "085", "1622", "7", "0042", "085"}
	keys := make([]Key, len(partners))
	for i, p := range partners {
		keys[i] = Key{ID: fmt.Sprint("k", i), PartnerID: p, APIKey: fmt.Sprint("secret-", i), Environment: Production}
	}
	ring, err := NewKeyring(keys...)
	require.NoError(t, err)
	for round := 0; round < 3; round++ { // pooled states come back with old messages
		ts := FormatTimestamp(time.Date(2026, 11, 21, 10, 0, round, 0, time.UTC))
		for i, k := range keys {
			for _, partner := range []string{k.PartnerID, TrimPartnerID(k.PartnerID)} {
				mac, err := ParseSignature([]byte(Sign(k.APIKey, partner, ts)))
				require.NoError(t, err)
				got, err := ring.VerifyMAC(ts, mac, VerifyOptions{TrimmedPartnerID: true})
				require.NoError(t, err, "key %d, partner %q", i, partner)
				assert.Equal(t, k.ID, got.ID)
				if partner != k.PartnerID {
					_, err = ring.VerifyMAC(ts, mac, VerifyOptions{})
					assert.ErrorIs(t, err, ErrInvalidSignature, "trimmed only when asked")
				}
			}
		}
	}
}

func TestKeyringVerifyJudgesWindowsAtTheCurrentTime(t *testing.T) {
	now := time.Now()
	retired := Key{ID: "retired", PartnerID: "1622", APIKey: "retired-secret", Environment: Production, NotAfter: now.Add(-time.Hour)}
	future := Key{ID: "future", PartnerID: "1622", APIKey: "future-secret", Environment: Production, NotBefore: now.Add(time.Hour)}
	current := Key{ID: "current", PartnerID: "1622", APIKey: "current-secret", Environment: Production}
	ring, err := NewKeyring(retired, future, current)
	require.NoError(t, err)
	for _, k := range []Key{retired, future} {
		_, err := ring.Verify(testTimestamp, sign(k))
		assert.ErrorIs(t, err, ErrInvalidSignature, k.ID)
	}
	got, err := ring.Verify(testTimestamp, sign(current))
	require.NoError(t, err)
	assert.Equal(t, "current", got.ID)

	only, err := NewKeyring(retired)
	require.NoError(t, err)
	_, err = only.Verify(testTimestamp, sign(retired))
	assert.ErrorIs(t, err, ErrNoUsableKey)
}
