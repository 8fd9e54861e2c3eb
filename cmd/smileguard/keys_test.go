package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/smileguard/smileguard/signer"
)

// TestKeysCheck compares the key review with golden files: a file in good
// order, one with every problem a key can have, one open to others, and one
// holding an API key twice.
func TestKeysCheck(t *testing.T) {
	day := 24 * time.Hour
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	at := []string{"--at", now.Format(time.RFC3339)}
	dir := t.TempDir()
	good := writeKeys(t, filepath.Join(dir, "good.json"),
		signer.Key{ID: "prod-2026-11", PartnerID: "1622", APIKey: "keys-a", Environment: signer.Production, CreatedAt: now.Add(-19 * day)},
		signer.Key{ID: "sandbox-1", PartnerID: "1622", APIKey: "keys-b", Environment: signer.Sandbox, CreatedAt: now.Add(-30 * day)})
	troubled := writeKeys(t, filepath.Join(dir, "troubled.json"),
		signer.Key{ID: "prod-2026-11", PartnerID: "1622", APIKey: "keys-c", Environment: signer.Production, CreatedAt: now.Add(-19 * day)},
		signer.Key{ID: "prod-2026-08", PartnerID: "1622", APIKey: "keys-d", Environment: signer.Production, CreatedAt: now.Add(-112 * day)},
		signer.Key{ID: "prod-rotating", PartnerID: "1622", APIKey: "keys-e", Environment: signer.Production, NotAfter: now.Add(9 * day)},
		signer.Key{ID: "prod-next", PartnerID: "1622", APIKey: "keys-f", Environment: signer.Production, NotBefore: now.Add(2 * day)},
		signer.Key{ID: "sandbox-old", PartnerID: "1622", APIKey: "keys-g", Environment: signer.Sandbox, NotAfter: now.Add(-day)},
		signer.Key{ID: "sandbox-unknown-age", PartnerID: "1622", APIKey: "keys-h", Environment: signer.Sandbox})
	open := writeKeys(t, filepath.Join(dir, "open.json"),
		signer.Key{ID: "prod-2026-11", PartnerID: "1622", APIKey: "keys-i", Environment: signer.Production, CreatedAt: now.Add(-19 * day)})
	require.NoError(t, os.Chmod(open, 0o644))
	twice := writeKeys(t, filepath.Join(dir, "twice.json"),
		signer.Key{ID: "prod-1", PartnerID: "1622", APIKey: "keys-same", Environment: signer.Production},
		signer.Key{ID: "sandbox-1", PartnerID: "1622", APIKey: "keys-same", Environment: signer.Sandbox})

	for _, tc := range []struct {
		name   string
		file   string
		status int
	}{
		{"in good order", good, exitOK},
		{"every problem of a key", troubled, exitFailed},
		{"open to others", open, exitFailed},
		{"one API key twice", twice, exitFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, stdout, stderr := runIn(t, nil, append([]string{"keys", "check"}, append(at, tc.file)...)...)
			assert.Equal(t, tc.status, status, stderr)
			golden(t, "keys-check/"+strings.ReplaceAll(tc.name, " ", "-"), strings.ReplaceAll(stdout, dir, "DIR"))
			assert.NotContains(t, stdout, "keys-same")
			assert.NotContains(t, stdout, "keys-a")
		})
	}
}

// TestHelpShowsExamples: every command's --help has its flags and
// examples, and exits 0.
func TestHelpShowsExamples(t *testing.T) {
	for _, args := range [][]string{{"proxy", "--help"}, {"verify", "-h"}, {"sign", "--help"}, {"keys", "--help"}, {"keys", "check", "--help"}, {"version", "--help"}, {"help", "sign"}} {
		status, stdout, _ := runIn(t, nil, args...)
		assert.Equal(t, exitOK, status, args)
		assert.Contains(t, stdout, "Examples:", args)
		name := args[0]
		if name == "help" {
			name = args[1]
		}
		assert.Contains(t, stdout, "Usage: smileguard "+name, args)
	}
	status, stdout, _ := runIn(t, nil, "--help")
	assert.Equal(t, exitOK, status)
	for _, c := range commands {
		assert.Contains(t, stdout, c.name)
	}
	status, _, stderr := runIn(t, nil, "frobnicate")
	assert.Equal(t, exitUsage, status)
	assert.Contains(t, stderr, `unknown command "frobnicate"`)
	status, stdout, _ = runIn(t, nil, "version")
	assert.Equal(t, exitOK, status)
	assert.True(t, strings.HasPrefix(stdout, "smileguard "), stdout)
}
