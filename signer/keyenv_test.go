package signer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const envSecret = "env-s3cret-9f10-2b3c"

// env is a lookup over a fixed set of variables.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

// with returns a copy of e with changes applied; a "-" value unsets.
func (e env) with(changes env) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for k, v := range changes {
		if v == "-" {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

var goodEnv = env{
	"SMILEID_KEYS":                           " production-2026-11 , sandbox.1",
	"SMILEID_PRODUCTION_2026_11_PARTNER_ID":  "085",
	"SMILEID_PRODUCTION_2026_11_API_KEY":     envSecret,
	"SMILEID_PRODUCTION_2026_11_ENVIRONMENT": "production",
	"SMILEID_PRODUCTION_2026_11_CREATED_AT":  "2026-11-02T09:00:00Z",
	"SMILEID_PRODUCTION_2026_11_NOT_AFTER":   "2027-02-01T00:00:00Z",
	"SMILEID_SANDBOX_1_PARTNER_ID":           "085",
	"SMILEID_SANDBOX_1_API_KEY":              "another-secret",
	"SMILEID_SANDBOX_1_ENVIRONMENT":          "sandbox",
	"SMILEID_SANDBOX_1_NOT_BEFORE":           "",
}

func TestLoadKeysEnv(t *testing.T) {
	keys, err := LoadKeysEnv("", goodEnv.lookup)
	require.NoError(t, err)
	assert.Equal(t, []Key{
		{ID: "production-2026-11", PartnerID: "085", APIKey: envSecret, Environment: Production,
			CreatedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), NotAfter: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)},
		{ID: "sandbox.1", PartnerID: "085", APIKey: "another-secret", Environment: Sandbox},
	}, normaliseTimes(keys))

	other := env{}
	for k, v := range goodEnv {
		other["ACME_"+strings.TrimPrefix(k, "SMILEID_")] = v
	}
	keys, err = LoadKeysEnv("ACME", other.lookup)
	require.NoError(t, err)
	assert.Len(t, keys, 2, "another prefix")
}

func TestLoadKeysEnvReadsTheProcessEnvironment(t *testing.T) {
	for k, v := range goodEnv {
		t.Setenv("HYGIENETEST_"+strings.TrimPrefix(k, "SMILEID_"), v)
	}
	keys, err := LoadKeysEnv("HYGIENETEST", nil)
	require.NoError(t, err)
	assert.Len(t, keys, 2)
}

func TestLoadKeysEnvRefuses(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		env    env
		want   error
		reason string
	}{
		{"lower-case prefix", "smileid", goodEnv, ErrKeySource, `prefix "smileid" is not upper-case`},
		{"no list", "", goodEnv.with(env{"SMILEID_KEYS": "-"}), ErrKeySource, "SMILEID_KEYS is not set"},
		{"empty list", "", goodEnv.with(env{"SMILEID_KEYS": " "}), ErrKeySource, "SMILEID_KEYS is not set"},
		{"empty ID in the list", "", goodEnv.with(env{"SMILEID_KEYS": "production-2026-11,,sandbox.1"}), ErrKeySource, "SMILEID_KEYS has an empty ID"},
		{"two IDs, one name", "", goodEnv.with(env{"SMILEID_KEYS": "sandbox.1,Sandbox-1"}), ErrKeySource,
			`IDs "sandbox.1" and "Sandbox-1" both use the variables SMILEID_SANDBOX_1_*`},
		{"partner id unset", "", goodEnv.with(env{"SMILEID_SANDBOX_1_PARTNER_ID": "-"}), ErrKeySource, `SMILEID_SANDBOX_1_PARTNER_ID is not set (key "sandbox.1")`},
		{"API key unset", "", goodEnv.with(env{"SMILEID_SANDBOX_1_API_KEY": "-"}), ErrKeySource, "SMILEID_SANDBOX_1_API_KEY is not set"},
		{"environment unset", "", goodEnv.with(env{"SMILEID_SANDBOX_1_ENVIRONMENT": "-"}), ErrKeySource, "SMILEID_SANDBOX_1_ENVIRONMENT is not set"},
		{"API key set but empty", "", goodEnv.with(env{"SMILEID_SANDBOX_1_API_KEY": ""}), ErrInvalidKey, `"sandbox.1": APIKey is empty`},
		{"API key with a newline", "", goodEnv.with(env{"SMILEID_SANDBOX_1_API_KEY": envSecret + "x\n"}), ErrInvalidKey, "APIKey has leading or trailing white space"},
		{"bad time", "", goodEnv.with(env{"SMILEID_PRODUCTION_2026_11_NOT_AFTER": envSecret + "x"}), ErrKeySource,
			"SMILEID_PRODUCTION_2026_11_NOT_AFTER is not an RFC 3339 time"},
		{"unknown environment", "", goodEnv.with(env{"SMILEID_SANDBOX_1_ENVIRONMENT": "test"}), ErrInvalidKey, `SMILEID_SANDBOX_1_ENVIRONMENT: signer: invalid key "sandbox.1": Environment is neither "sandbox" nor "production"`},
		{"same secret in both environments", "", goodEnv.with(env{"SMILEID_SANDBOX_1_API_KEY": envSecret}), ErrDuplicateAPIKey,
			`"sandbox.1": APIKey is also the APIKey of production key "production-2026-11"`},
		{"live value labelled sandbox", "", goodEnv.with(env{"SMILEID_SANDBOX_1_API_KEY": "live_" + envSecret + "x"}), ErrEnvironmentMismatch,
			`"sandbox.1": APIKey names the production environment but Environment is "sandbox"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := LoadKeysEnv(tt.prefix, tt.env.lookup)
			require.ErrorIs(t, err, tt.want)
			require.ErrorIs(t, err, ErrKeySource, "every failure to load is ErrKeySource")
			assert.Nil(t, keys)
			assert.Contains(t, err.Error(), tt.reason)
			assert.True(t, strings.HasPrefix(err.Error(), "signer: cannot load keys: "), err.Error())
			assert.NotContains(t, err.Error(), envSecret[:10], "no value from the environment")
			assert.NotContains(t, err.Error(), "another-secret")
		})
	}
}

func TestLoadKeysEnvReportsEveryBadVariable(t *testing.T) {
	bad := goodEnv.with(env{
		"SMILEID_KEYS":                           "production-2026-11,sandbox.1,,third",
		"SMILEID_PRODUCTION_2026_11_PARTNER_ID":  "-",
		"SMILEID_PRODUCTION_2026_11_NOT_AFTER":   "next week",
		"SMILEID_SANDBOX_1_API_KEY":              "",
		"SMILEID_SANDBOX_1_ENVIRONMENT":          "Sandbox",
		"SMILEID_SANDBOX_1_PARTNER_ID":           " 085",
		"SMILEID_THIRD_PARTNER_ID":               "085",
		"SMILEID_THIRD_API_KEY":                  "third-secret",
		"SMILEID_THIRD_ENVIRONMENT":              "production",
		"SMILEID_THIRD_NOT_BEFORE":               "2027-01-01T00:00:00Z",
		"SMILEID_THIRD_NOT_AFTER":                "2026-01-01T00:00:00Z",
		"SMILEID_PRODUCTION_2026_11_ENVIRONMENT": "production",
	})
	keys, err := LoadKeysEnv("", bad.lookup)
	assert.Nil(t, keys)
	require.ErrorIs(t, err, ErrKeySource)
	require.ErrorIs(t, err, ErrInvalidKey)
	for _, want := range []string{
		`SMILEID_PRODUCTION_2026_11_PARTNER_ID is not set (key "production-2026-11")`,
		`SMILEID_PRODUCTION_2026_11_NOT_AFTER is not an RFC 3339 time`,
		`SMILEID_SANDBOX_1_API_KEY: signer: invalid key "sandbox.1": APIKey is empty`,
		`SMILEID_SANDBOX_1_PARTNER_ID: signer: invalid key "sandbox.1": PartnerID has leading or trailing white space`,
		`SMILEID_SANDBOX_1_ENVIRONMENT: signer: invalid key "sandbox.1": Environment must be "sandbox" or "production", in lower case`,
		`SMILEID_KEYS has an empty ID`,
		`SMILEID_THIRD_NOT_AFTER: signer: invalid key "third": NotAfter is not after NotBefore`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.True(t, strings.HasPrefix(err.Error(), "signer: cannot load keys: "), err.Error())
	assert.Equal(t, 7, strings.Count(err.Error(), "; ")+1, "seven problems, one line: %s", err)
	assert.NotContains(t, err.Error(), "next week")
	assert.NotContains(t, err.Error(), "third-secret")

	t.Run("duplicates across keys, all of them", func(t *testing.T) {
		dup := goodEnv.with(env{
			"SMILEID_KEYS":                  "production-2026-11,sandbox.1,again",
			"SMILEID_SANDBOX_1_API_KEY":     envSecret,
			"SMILEID_AGAIN_PARTNER_ID":      "085",
			"SMILEID_AGAIN_API_KEY":         envSecret,
			"SMILEID_AGAIN_ENVIRONMENT":     "production",
			"SMILEID_SANDBOX_1_ENVIRONMENT": "sandbox",
		})
		_, err := LoadKeysEnv("", dup.lookup)
		require.ErrorIs(t, err, ErrDuplicateAPIKey)
		assert.Contains(t, err.Error(), `"sandbox.1": APIKey is also the APIKey of production key "production-2026-11"`)
		assert.Contains(t, err.Error(), `"again": APIKey is also the APIKey of "production-2026-11"`)
	})
}

// TestLoadKeysEnvQuotesNoValue puts a secret-looking value in each
// variable of a key, one at a time and all at once, and looks for it in
// the error. The IDs in SMILEID_KEYS are labels (see Key.ID): errors name
// keys by them.
func TestLoadKeysEnvQuotesNoValue(t *testing.T) {
	const pasted = "513205c6-c420-44e5-ab85-370986dc3f19"
	vars := []string{"PARTNER_ID", "API_KEY", "ENVIRONMENT", "CREATED_AT", "NOT_BEFORE", "NOT_AFTER"}
	all := env{}
	for _, v := range vars {
		for _, value := range []string{pasted, " " + pasted, pasted + "\n"} {
			e := goodEnv.with(env{"SMILEID_SANDBOX_1_" + v: value})
			all["SMILEID_SANDBOX_1_"+v] = value
			_, err := LoadKeysEnv("", e.lookup)
			if (v == "PARTNER_ID" || v == "API_KEY") && value == pasted {
				continue // valid, as far as anyone can tell
			}
			require.Error(t, err, "%s=%q", v, value)
			assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), strings.TrimSpace(value)[:8], "%s=%q", v, value)
		}
	}
	_, err := LoadKeysEnv("", goodEnv.with(all).lookup)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), pasted[:8])
}
