package signer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestKeyNeverPrintsItsAPIKey(t *testing.T) {
	const secret = "s3cr3t-api-key-value"
	key := Key{ID: "prod-2026", PartnerID: "1622", APIKey: secret, Environment: Production,
		NotBefore: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
		CreatedAt: time.Date(2025, 12, 30, 8, 0, 0, 0, time.UTC)}
	type holder struct {
		Key  Key
		Keys []Key
		Ptr  *Key
	}
	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v", "%10v", "%-v"} {
		outputs[verb] = fmt.Sprintf(verb, key)
		outputs[verb+" pointer"] = fmt.Sprintf(verb, &key)
		outputs[verb+" nested"] = fmt.Sprintf(verb, holder{Key: key, Keys: []Key{key}, Ptr: &key})
	}
	outputs["Sprint"] = fmt.Sprint(key)
	outputs["Sprintln"] = fmt.Sprintln(key)
	outputs["String"] = key.String()
	outputs["GoString"] = key.GoString()

	var jsonLog, textLog bytes.Buffer
	slog.New(slog.NewJSONHandler(&jsonLog, nil)).Info("loaded", "key", key, "ptr", &key)
	slog.New(slog.NewTextHandler(&textLog, nil)).Info("loaded", "key", key)
	outputs["slog JSON"] = jsonLog.String()
	outputs["slog text"] = textLog.String()

	js, err := json.Marshal(holder{Key: key, Keys: []Key{key}, Ptr: &key})
	require.NoError(t, err)
	outputs["encoding/json"] = string(js)

	for how, out := range outputs {
		assert.NotContains(t, out, secret, how)
		assert.NotContains(t, out, fmt.Sprintf("%x", secret), how)
	}
	assert.Contains(t, outputs["%v"], `ID: "prod-2026"`)
	assert.Contains(t, outputs["%v"], redacted)
	assert.Contains(t, outputs["%#v"], `signer.Key{ID:"prod-2026"`)
	assert.Contains(t, outputs["slog JSON"], `"id":"prod-2026"`)
	assert.Contains(t, outputs["slog JSON"], `"environment":"production"`)
	assert.Contains(t, outputs["encoding/json"], `"APIKey":"[REDACTED]"`)

	// The creation time is shown by every printer, the secret by none.
	assert.Contains(t, outputs["%v"], "CreatedAt: 2025-12-30T08:00:00Z")
	assert.Contains(t, outputs["%#v"], "CreatedAt:time.Date(2025, time.December, 30, 8, 0, 0, 0, time.UTC)")
	assert.Contains(t, outputs["slog JSON"], `"created_at":"2025-12-30T08:00:00Z"`)
	assert.Contains(t, outputs["encoding/json"], `"CreatedAt":"2025-12-30T08:00:00Z"`)
	assert.NotContains(t, Key{ID: "x"}.String(), "CreatedAt", "an unknown creation time is left out")
}

func TestEnvironmentHost(t *testing.T) {
	assert.Equal(t, "testapi.smileidentity.com", Sandbox.Host())
	assert.Equal(t, "api.smileidentity.com", Production.Host())
	assert.Equal(t, "", Environment("live").Host())
	assert.True(t, Sandbox.Valid())
	assert.False(t, Environment("").Valid())
}

func TestKeyringStringNamesIDsOnly(t *testing.T) {
	ring, err := NewKeyring(sandboxKey, productionKey)
	require.NoError(t, err)
	s := fmt.Sprintf("%v %+v %s", ring, ring, ring)
	assert.Contains(t, s, "sandbox-1")
	assert.NotContains(t, s, sandboxKey.APIKey)
	assert.NotContains(t, s, productionKey.APIKey)
}

// TestKeyInAnUnexportedFieldPrintsItsAPIKey pins what the Key doc says:
// where fmt may not call Key's methods, the APIKey shows; where it may, or
// where the holder speaks for itself, it does not.
func TestKeyInAnUnexportedFieldPrintsItsAPIKey(t *testing.T) {
	const secret = "unexp0rted-api-key"
	key := Key{ID: "k", PartnerID: "1622", APIKey: secret, Environment: Production}
	type exported struct{ Key Key }
	type unexported struct{ key Key }
	ring, err := NewKeyring(key)
	require.NoError(t, err)
	type withKeyring struct{ ring *Keyring }

	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("held", "holder", unexported{key})
	assert.Contains(t, fmt.Sprintf("%v", unexported{key}), secret, "fmt cannot call Format on an unexported field")
	assert.Contains(t, fmt.Sprintf("%+v", unexported{key}), secret)
	assert.Contains(t, text.String(), secret, "nor can slog's text handler, which uses fmt")

	text.Reset()
	slog.New(slog.NewTextHandler(&text, nil)).Info("held", "holder", exported{key}, "ring", withKeyring{ring})
	var js bytes.Buffer
	slog.New(slog.NewJSONHandler(&js, nil)).Info("held", "holder", unexported{key}, "exported", exported{key})
	for how, out := range map[string]string{
		"exported field, %v":  fmt.Sprintf("%v", exported{key}),
		"exported field, %+v": fmt.Sprintf("%+v", exported{key}),
		"a Keyring held, %v":  fmt.Sprintf("%v", withKeyring{ring}),
		"slog text, exported": text.String(),
		"slog JSON, either":   js.String(), // encoding/json skips unexported fields
	} {
		assert.NotContains(t, out, secret, how)
	}
}
