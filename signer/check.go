package signer

import (
	"crypto/sha256"
	"fmt"
)

// CheckKeys validates keys as [NewKeyring] does and also refuses what is
// certainly a mistake in a set of keys, though each key alone looks fine:
//
//   - the same APIKey under two IDs (ErrDuplicateAPIKey). In two
//     environments it is mislabelled, since a Smile ID key works in one
//     environment only; in one, the second ID would never be reported by
//     Verify;
//   - an APIKey that names the other environment (ErrEnvironmentMismatch):
//     a value with "sandbox" or "test" as a whole word labelled Production,
//     or "production", "prod" or "live" labelled Sandbox. A word is a run of
//     ASCII letters and digits; case does not matter. A value naming both
//     environments names neither.
//
// Smile ID documents no environment marker in the API keys it issues, so a
// key as issued is never judged by its shape: the marker check catches
// placeholders and values copied from the wrong place ("sandbox-key-for-qa"
// in the production slot), not a real sandbox key put in production. That
// mistake shows only at Smile ID, as error 2204 or 2205.
//
// Errors wrap [ErrInvalidKey] and name keys by ID, never by secret. The
// loaders [LoadKeysFile] and [LoadKeysEnv] call [CheckKeys].
func CheckKeys(keys ...Key) error {
	if errs := checkKeySet(keys); len(errs) > 0 {
		return errs[0]
	}
	return nil
}

// checkKeySet returns every problem CheckKeys finds in keys: the first
// key NewKeyring refuses, or else every duplicate and every mislabelled
// key.
func checkKeySet(keys []Key) []error {
	set, err := newKeySet(keys)
	if err != nil {
		return []error{err}
	}
	var errs []error
	owners := make(map[[sha256.Size]byte]Key, len(set.keys))
	for _, key := range set.keys {
		digest := sha256.Sum256([]byte(key.APIKey))
		if first, ok := owners[digest]; ok {
			reason := fmt.Sprintf("APIKey is also the APIKey of %q", first.ID)
			if first.Environment != key.Environment {
				reason = fmt.Sprintf("APIKey is also the APIKey of %s key %q: a key works in one environment only",
					first.Environment, first.ID)
			}
			errs = append(errs, fmt.Errorf("%w %q: %s", ErrDuplicateAPIKey, key.ID, reason))
		} else {
			owners[digest] = key
		}
		if named, ok := namedEnvironment(key.APIKey); ok && named != key.Environment {
			errs = append(errs, fmt.Errorf("%w %q: APIKey names the %s environment but Environment is %q",
				ErrEnvironmentMismatch, key.ID, named, string(key.Environment)))
		}
	}
	return errs
}

// environmentWords are the words that name an environment in a value.
var environmentWords = map[string]Environment{
	"sandbox":    Sandbox,
	"test":       Sandbox,
	"production": Production,
	"prod":       Production,
	"live":       Production,
}

// namedEnvironment returns the environment that value names with a whole
// word (see CheckKeys), if it names exactly one.
func namedEnvironment(value string) (Environment, bool) {
	var named Environment
	start := -1
	for i := 0; i <= len(value); i++ {
		if i < len(value) && isWordByte(value[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start < 0 {
			continue
		}
		word := value[start:i]
		start = -1
		if len(word) > len("production") {
			continue
		}
		var lower [len("production")]byte
		for j := 0; j < len(word); j++ {
			lower[j] = word[j] | 0x20 // letters only matter; digits never match
		}
		env, ok := environmentWords[string(lower[:len(word)])]
		switch {
		case !ok:
		case named == "":
			named = env
		case named != env:
			return "", false
		}
	}
	return named, named != ""
}

func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
