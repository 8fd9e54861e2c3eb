package signer

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckKeys(t *testing.T) {
	k := func(id string, env Environment, apiKey string) Key {
		return Key{ID: id, PartnerID: "1622", APIKey: apiKey, Environment: env}
	}
	const uuid = "5d1f4a3e-8c2b-4e7a-9f10-2b3c4d5e6f70" // the shape of a real key: judged by nothing
	tests := []struct {
		name   string
		keys   []Key
		err    error // nil: accepted
		reason string
	}{
		{"one key per environment", []Key{k("p", Production, uuid), k("s", Sandbox, "0b6c1a55-1d2e-4f3a-8b9c-0d1e2f3a4b5c")}, nil, ""},
		{"NewKeyring's rules apply", []Key{k("p", Production, "")}, ErrInvalidKey, `"p": APIKey is empty`},
		{"duplicate ID", []Key{k("p", Production, "secret-value-a"), k("p", Production, "secret-value-b")}, ErrInvalidKey, `"p": ID is used by another key`},
		{"same secret under two IDs", []Key{k("p1", Production, uuid), k("p2", Production, uuid)}, ErrDuplicateAPIKey,
			`"p2": APIKey is also the APIKey of "p1"`},
		{"same secret in both environments", []Key{k("s", Sandbox, uuid), k("p", Production, uuid)}, ErrDuplicateAPIKey,
			`"p": APIKey is also the APIKey of sandbox key "s": a key works in one environment only`},
		{"same secret, generated IDs", []Key{{PartnerID: "1", APIKey: uuid, Environment: Sandbox}, {PartnerID: "1", APIKey: uuid, Environment: Sandbox}},
			ErrDuplicateAPIKey, `"sandbox-2": APIKey is also the APIKey of "sandbox-1"`},
		{"sandbox value labelled production", []Key{k("p", Production, "sandbox-key-for-qa")}, ErrEnvironmentMismatch,
			`"p": APIKey names the sandbox environment but Environment is "production"`},
		{"test value labelled production", []Key{k("p", Production, "sk_test_51Hx")}, ErrEnvironmentMismatch, "names the sandbox environment"},
		{"upper-case marker", []Key{k("p", Production, "MY.TEST.KEY")}, ErrEnvironmentMismatch, "names the sandbox environment"},
		{"live value labelled sandbox", []Key{k("s", Sandbox, "sk_live_51Hx")}, ErrEnvironmentMismatch,
			`"s": APIKey names the production environment but Environment is "sandbox"`},
		{"prod value labelled sandbox", []Key{k("s", Sandbox, "prod:1234")}, ErrEnvironmentMismatch, "names the production environment"},
		{"production value labelled sandbox", []Key{k("s", Sandbox, "Production")}, ErrEnvironmentMismatch, "names the production environment"},
		{"marker of its own environment", []Key{k("s", Sandbox, "sandbox-api-key-0001"), k("p", Production, "live-key")}, nil, ""},
		{"both environments named: neither", []Key{k("p", Production, "test-copy-of-prod-key")}, nil, ""},
		{"a marker inside a word is no marker", []Key{k("p", Production, "latestkey"), k("q", Production, "testing-1"), k("r", Production, "contest")}, nil, ""},
		{"digits join a word", []Key{k("p", Production, "test1-key")}, nil, ""},
		{"a longer word is no marker", []Key{k("p", Production, "sandboxes-are-fun")}, nil, ""},
		{"non-ASCII separates words", []Key{k("p", Production, "clé·test·ü")}, ErrEnvironmentMismatch, "names the sandbox environment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckKeys(tt.keys...)
			if tt.err == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.err)
			require.ErrorIs(t, err, ErrInvalidKey, "every key problem is an invalid key")
			assert.Contains(t, err.Error(), tt.reason)
			assert.True(t, strings.HasPrefix(err.Error(), "signer: "))
			for _, key := range tt.keys {
				if key.APIKey != "" {
					assert.NotContains(t, err.Error(), key.APIKey, "no secret in errors")
				}
			}
		})
	}
}

func TestNamedEnvironment(t *testing.T) {
	tests := []struct {
		value string
		want  Environment // "": names none
	}{
		{"", ""}, {"test", Sandbox}, {"TEST", Sandbox}, {"-test-", Sandbox}, {"a/test", Sandbox}, {"sandbox", Sandbox},
		{"live", Production}, {"prod", Production}, {"production", Production}, {"x_PROD_y", Production},
		{"test-test", Sandbox}, {"live-prod", Production}, {"test-live", ""}, {"productions", ""}, {"prod1", ""},
		{"tes", ""}, {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", ""}, {"5d1f4a3e-8c2b-4e7a-9f10-2b3c4d5e6f70", ""},
	}
	for _, tt := range tests {
		got, ok := namedEnvironment(tt.value)
		assert.Equal(t, tt.want, got, tt.value)
		assert.Equal(t, tt.want != "", ok, tt.value)
	}
}
