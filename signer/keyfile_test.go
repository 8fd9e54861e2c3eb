package signer

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fileSecret is the API key in the test files; no error may show it.
const fileSecret = "f1le-s3cret-0b6c1a55"

// writeKeyFile writes content to a new file with mode and returns its path.
func writeKeyFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "smileid-keys.json")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	require.NoError(t, os.Chmod(path, mode)) // whatever the umask
	return path
}

func TestLoadKeysFile(t *testing.T) {
	path := writeKeyFile(t, `{"keys": [
		{"id": "production-2026-11", "partner_id": "085", "environment": "production", "api_key": "`+fileSecret+`",
		 "created_at": "2026-11-02T09:00:00Z", "not_before": "2026-11-02T09:00:00+01:00"},
		{"id": "production-2026-08", "partner_id": "085", "environment": "production", "api_key": "other-secret",
		 "created_at": "2026-08-01T00:00:00Z", "not_after": "2026-12-01T00:00:00Z"}
	]}`, 0o600)
	keys, err := LoadKeysFile(path)
	require.NoError(t, err)
	assert.Equal(t, []Key{
		{ID: "production-2026-11", PartnerID: "085", APIKey: fileSecret, Environment: Production,
			CreatedAt: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), NotBefore: time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC)},
		{ID: "production-2026-08", PartnerID: "085", APIKey: "other-secret", Environment: Production,
			CreatedAt: time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
	}, normaliseTimes(keys))
	_, err = NewKeyring(keys...)
	require.NoError(t, err, "what LoadKeysFile returns, NewKeyring takes")
}

// normaliseTimes puts every time in UTC, so keys compare with ==.
func normaliseTimes(keys []Key) []Key {
	for i := range keys {
		for _, tm := range []*time.Time{&keys[i].CreatedAt, &keys[i].NotBefore, &keys[i].NotAfter} {
			if !tm.IsZero() {
				*tm = tm.UTC()
			}
		}
	}
	return keys
}

func TestLoadKeysFileRefuses(t *testing.T) {
	entry := func(extra string) string {
		return `{"id": "p", "partner_id": "1622", "environment": "production", "api_key": "` + fileSecret + `"` + extra + `}`
	}
	doc := func(entries ...string) string { return `{"keys": [` + strings.Join(entries, ",") + `]}` }
	tests := []struct {
		name    string
		content string
		want    error
		reason  string
	}{
		{"unknown member in a key: a typo", doc(entry(`, "notafter": "2027-01-01T00:00:00Z"`)), ErrKeySource, `unknown member "notafter"`},
		{"unknown top-level member", `{"keys": [` + entry("") + `], "version": 2}`, ErrKeySource, `unknown member "version"`},
		{"a bare array", `[` + entry("") + `]`, ErrKeySource, `not a JSON object with a "keys" member`},
		{"keys not an array", `{"keys": {}}`, ErrKeySource, `"keys" must be a JSON array`},
		{"api_key not a string", `{"keys": [{"id": "p", "api_key": 12345}]}`, ErrKeySource, `"keys.api_key" must be a JSON string`},
		{"no keys", `{"keys": []}`, ErrKeySource, `"keys" lists no key`},
		{"no keys member", `{}`, ErrKeySource, `"keys" lists no key`},
		{"empty file", ``, ErrKeySource, "the JSON ends early"},
		{"cut short", doc(entry(""))[:40], ErrKeySource, "the JSON ends early"},
		{"syntax error inside the secret", `{"keys": [{"api_key": "` + fileSecret + "\x01" + `"}]}`, ErrKeySource, "not valid JSON (at byte"},
		{"data after the object", doc(entry("")) + `{}`, ErrKeySource, "data after the JSON object"},
		{"missing id", doc(`{"partner_id": "1", "environment": "sandbox", "api_key": "x"}`), ErrKeySource, `keys[0]: "id" is missing`},
		{"bad time", doc(entry(`, "not_after": "` + fileSecret + `"`)), ErrKeySource, `keys[0] ("p"): "not_after" is not an RFC 3339 time`},
		{"date without time", doc(entry(`, "created_at": "2026-11-21"`)), ErrKeySource, `"created_at" is not an RFC 3339 time`},
		{"missing api_key", doc(`{"id": "p", "partner_id": "1", "environment": "sandbox"}`), ErrInvalidKey, `"p": APIKey is empty`},
		{"unknown environment", doc(`{"id": "p", "partner_id": "1", "environment": "live", "api_key": "x"}`), ErrInvalidKey, `"p": Environment is neither "sandbox" nor "production"`},
		{"window backwards", doc(entry(`, "not_before": "2027-01-01T00:00:00Z", "not_after": "2026-01-01T00:00:00Z"`)), ErrInvalidKey, "NotAfter is not after NotBefore"},
		{"same secret twice", doc(entry(""), strings.Replace(entry(""), `"p"`, `"q"`, 1)), ErrDuplicateAPIKey, `"q": APIKey is also the APIKey of "p"`},
		{"sandbox value in production", doc(`{"id": "p", "partner_id": "1", "environment": "production", "api_key": "sandbox-` + fileSecret + `"}`),
			ErrEnvironmentMismatch, `"p": APIKey names the sandbox environment`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeKeyFile(t, tt.content, 0o600)
			keys, err := LoadKeysFile(path)
			require.ErrorIs(t, err, tt.want)
			require.ErrorIs(t, err, ErrKeySource, "every failure to load is ErrKeySource")
			assert.Nil(t, keys)
			assert.Contains(t, err.Error(), tt.reason)
			assert.Contains(t, err.Error(), path, "the file is named")
			assert.True(t, strings.HasPrefix(err.Error(), "signer: cannot load keys: "), err.Error())
			assert.NotContains(t, err.Error(), fileSecret[:8], "no value from the file")
		})
	}
}

func TestLoadKeysFileRefusesFilesOpenToOthers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the mode is not checked on Windows")
	}
	content := `{"keys": [{"id": "p", "partner_id": "1622", "environment": "production", "api_key": "` + fileSecret + `"}]}`
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o602, 0o620, 0o610, 0o601, 0o666, 0o777} {
		path := writeKeyFile(t, content, mode)
		_, err := LoadKeysFile(path)
		require.ErrorIs(t, err, ErrUnsafeKeyFile, "%04o", mode)
		require.ErrorIs(t, err, ErrKeySource)
		assert.Equal(t, "signer: key file is open to other users: "+path+" has mode "+fmt.Sprintf("%04o", mode)+"; allow its owner only (chmod 600)", err.Error())
	}
	for _, mode := range []os.FileMode{0o600, 0o400, 0o700} {
		_, err := LoadKeysFile(writeKeyFile(t, content, mode))
		assert.NoError(t, err, "%04o", mode)
	}
}

func TestLoadKeysFileRefusesWhatIsNoFile(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadKeysFile(filepath.Join(dir, "missing.json"))
	require.ErrorIs(t, err, ErrKeySource)
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), "missing.json")

	require.NoError(t, os.Chmod(dir, 0o700))
	_, err = LoadKeysFile(dir)
	require.ErrorIs(t, err, ErrKeySource)
	assert.Contains(t, err.Error(), "is not a regular file")

	big := writeKeyFile(t, `{"keys": [`+strings.Repeat(" ", MaxKeyFileBytes)+`]}`, 0o600)
	_, err = LoadKeysFile(big)
	require.ErrorIs(t, err, ErrKeySource)
	assert.Contains(t, err.Error(), "is larger than 1048576 bytes")
}

// TestLoadKeysFileQuotesNoValue puts a secret-looking value in each member
// of a key, and where a member name goes, and looks for it in the error.
// The "id" is a label (see Key.ID): errors name keys by it.
func TestLoadKeysFileQuotesNoValue(t *testing.T) {
	const pasted = "513205c6-c420-44e5-ab85-370986dc3f19"
	members := map[string]string{"partner_id": "1622", "environment": "production", "api_key": fileSecret,
		"created_at": "2026-11-02T09:00:00Z", "not_before": "", "not_after": ""}
	for member := range members {
		for _, value := range []string{pasted, pasted + " ", pasted + "\x01", "sandbox-" + pasted} {
			entry := `{"id": "p"`
			for m, v := range members {
				if m == member {
					v = value
				}
				entry += fmt.Sprintf(", %q: %q", m, v)
			}
			path := writeKeyFile(t, `{"keys": [`+entry+`}]}`, 0o600)
			_, err := LoadKeysFile(path)
			if err == nil {
				continue // a value that is valid there
			}
			assert.NotContains(t, fmt.Sprintf("%v %+v %#v", err, err, err), pasted[:8], "%s=%q", member, value)
		}
	}
	for _, doc := range []string{
		`{"keys": [{"id": "p", "` + pasted + `": "x"}]}`,
		`{"keys": [{"id": "p", "api_key" "` + pasted + `"}]}`,
		`{"` + pasted + `": []}`,
	} {
		_, err := LoadKeysFile(writeKeyFile(t, doc, 0o600))
		require.Error(t, err)
		assert.NotContains(t, err.Error(), pasted[:8], doc)
	}
}
