package signer

import (
	"fmt"
	"os"
	"strings"
	"time"
)

// DefaultKeyEnvPrefix is the prefix [LoadKeysEnv] uses when given "".
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
// prefix "" means [DefaultKeyEnvPrefix]; otherwise it must be upper-case
// ASCII letters, digits and "_". lookup reads a variable as [os.LookupEnv]
// does, which nil means; pass another to read from a secret store or in
// tests. Two IDs that give the same variable names ("prod-1" and "prod_1")
// are refused.
//
// The keys are then checked with [CheckKeys]. The error reports every
// variable at fault, not only the first, so that one start-up shows them
// all. It wraps [ErrKeySource], and [ErrInvalidKey] (or a narrower sentinel)
// too when a key is at fault; it names the variables and keys, never a
// value: a variable may hold a secret pasted in the wrong place.
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
	var problems []error
	owners := make(map[string]string) // variable stem -> ID
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			problems = append(problems, fmt.Errorf("%s has an empty ID", listName))
			continue
		}
		stem := prefix + "_" + envName(id) + "_"
		if other, ok := owners[stem]; ok {
			problems = append(problems, fmt.Errorf("%s: IDs %q and %q both use the variables %s*", listName, other, id, stem))
			continue
		}
		owners[stem] = id
		key, complete, errs := readEnvKey(id, stem, lookup)
		problems = append(problems, errs...)
		if complete {
			keys = append(keys, key)
		}
	}
	if len(problems) == 0 {
		for _, err := range checkKeySet(keys) {
			problems = append(problems, fmt.Errorf("%s: %w", listName, err))
		}
	}
	if len(problems) > 0 {
		return nil, &keySourceError{problems: problems}
	}
	return keys, nil
}

// envFields are the variables of one key, by the Key field each fills.
var envFields = map[string]string{
	"PartnerID":   "PARTNER_ID",
	"APIKey":      "API_KEY",
	"Environment": "ENVIRONMENT",
	"CreatedAt":   "CREATED_AT",
	"NotBefore":   "NOT_BEFORE",
	"NotAfter":    "NOT_AFTER",
}

// readEnvKey reads the variables of key id, whose names start with stem.
// complete is false when a required variable is not set; errs names every
// variable at fault.
func readEnvKey(id, stem string, lookup func(string) (string, bool)) (key Key, complete bool, errs []error) {
	key = Key{ID: id}
	complete = true
	var environment string
	for _, v := range []struct {
		field string
		into  *string
	}{
		{"PartnerID", &key.PartnerID},
		{"APIKey", &key.APIKey},
		{"Environment", &environment},
	} {
		value, ok := lookup(stem + envFields[v.field])
		if !ok {
			errs = append(errs, fmt.Errorf("%s%s is not set (key %q)", stem, envFields[v.field], id))
			complete = false
			continue
		}
		*v.into = value
	}
	key.Environment = Environment(environment)
	for _, v := range []struct {
		field string
		into  *time.Time
	}{
		{"CreatedAt", &key.CreatedAt},
		{"NotBefore", &key.NotBefore},
		{"NotAfter", &key.NotAfter},
	} {
		value, _ := lookup(stem + envFields[v.field])
		t, err := parseKeyTime(value)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s%s %w (key %q)", stem, envFields[v.field], err, id))
			complete = false
			continue
		}
		*v.into = t
	}
	if !complete {
		return key, false, errs
	}
	for _, p := range key.problems() {
		errs = append(errs, fmt.Errorf("%s%s: %w", stem, envFields[p.field], key.invalid(p.field+" "+p.reason)))
	}
	return key, len(errs) == 0, errs
}

// keySourceError reports every problem found in a key source. It matches
// ErrKeySource and whatever each problem matches.
type keySourceError struct {
	problems []error
}

func (e *keySourceError) Error() string {
	var b strings.Builder
	b.WriteString(ErrKeySource.Error())
	for i, p := range e.problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Error())
	}
	return b.String()
}

func (e *keySourceError) Unwrap() []error {
	return append([]error{ErrKeySource}, e.problems...)
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
