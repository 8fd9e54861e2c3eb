package signer

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// DefaultKeyEnvPrefix is the prefix LoadKeysEnv uses when given "".
const DefaultKeyEnvPrefix = "SMILEID"

// LoadKeysEnv reads API keys from environment variables. <PREFIX>_KEYS
// lists the keys' IDs, separated by commas; each key then has its own
// variables, named after its ID upper-cased with every character other
// than an ASCII letter or digit made "_":
//
//	SMILEID_KEYS=production-2026-11,sandbox-1
//	SMILEID_PRODUCTION_2026_11_PARTNER_ID=1622
//	SMILEID_PRODUCTION_2026_11_API_KEY=...
//	SMILEID_PRODUCTION_2026_11_ENVIRONMENT=production
//	SMILEID_PRODUCTION_2026_11_CREATED_AT=2026-11-02T09:00:00Z   (optional, RFC 3339)
//	SMILEID_PRODUCTION_2026_11_NOT_BEFORE=...                    (optional, RFC 3339)
//	SMILEID_PRODUCTION_2026_11_NOT_AFTER=...                     (optional, RFC 3339)
//	SMILEID_SANDBOX_1_PARTNER_ID=1622
//	...
//
// prefix "" means DefaultKeyEnvPrefix; otherwise it must be upper-case
// ASCII letters, digits and "_". lookup reads a variable as os.LookupEnv
// does, which nil means; pass another to read from a secret store or in
// tests. Two IDs that give the same variable names ("prod-1" and "prod_1")
// are refused.
//
// The keys are then checked with CheckKeys. Every error wraps
// ErrKeySource, and ErrInvalidKey (or a narrower sentinel) too when a key
// is at fault; it names the variable or key, never a value.
func LoadKeysEnv(prefix string, lookup func(name string) (string, bool)) ([]Key, error) {
	if prefix == "" {
		prefix = DefaultKeyEnvPrefix
	}
	if !validEnvPrefix(prefix) {
		return nil, fmt.Errorf("%w: prefix %q is not upper-case ASCII letters, digits and _", ErrKeySource, prefix)
	}
	if lookup == nil {
		lookup = os.LookupEnv
	}
	listName := prefix + "_KEYS"
	list, ok := lookup(listName)
	if !ok || strings.TrimSpace(list) == "" {
		return nil, fmt.Errorf("%w: %s is not set", ErrKeySource, listName)
	}

	var keys []Key
	owners := make(map[string]string) // variable stem -> ID
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			return nil, fmt.Errorf("%w: %s has an empty ID", ErrKeySource, listName)
		}
		stem := prefix + "_" + envName(id) + "_"
		if other, ok := owners[stem]; ok {
			return nil, fmt.Errorf("%w: %s: IDs %q and %q both use the variables %s*", ErrKeySource, listName, other, id, stem)
		}
		owners[stem] = id

		key := Key{ID: id}
		var environment string
		for _, v := range []struct {
			field string
			into  *string
		}{
			{"PARTNER_ID", &key.PartnerID},
			{"API_KEY", &key.APIKey},
			{"ENVIRONMENT", &environment},
		} {
			value, ok := lookup(stem + v.field)
			if !ok {
				return nil, fmt.Errorf("%w: %s%s is not set (key %q)", ErrKeySource, stem, v.field, id)
			}
			*v.into = value
		}
		key.Environment = Environment(environment)
		for _, v := range []struct {
			field string
			into  *time.Time
		}{
			{"CREATED_AT", &key.CreatedAt},
			{"NOT_BEFORE", &key.NotBefore},
			{"NOT_AFTER", &key.NotAfter},
		} {
			value, _ := lookup(stem + v.field)
			t, err := parseKeyTime(value)
			if err != nil {
				return nil, fmt.Errorf("%w: %s%s %w", ErrKeySource, stem, v.field, err)
			}
			*v.into = t
		}
		keys = append(keys, key)
	}
	if err := CheckKeys(keys...); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrKeySource, listName, err)
	}
	return keys, nil
}

// envName turns a key ID into the middle part of its variables' names.
func envName(id string) string {
	b := []byte(id)
	for i, c := range b {
		switch {
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		case 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

func validEnvPrefix(prefix string) bool {
	for i := 0; i < len(prefix); i++ {
		c := prefix[i]
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return prefix != ""
}
