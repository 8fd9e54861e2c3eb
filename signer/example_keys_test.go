package signer_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/smileguard/smileguard/signer"
)

func ExampleLoadKeysFile() {
	dir, _ := os.MkdirTemp("", "smileid")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "keys.json")
	os.WriteFile(path, []byte(`{"keys": [
		{"id": "production-2026-11", "partner_id": "1622", "environment": "production",
		 "api_key": "your-production-api-key", "created_at": "2026-11-02T09:00:00Z"}
	]}`), 0o600) // owner only: LoadKeysFile refuses anything wider

	keys, err := signer.LoadKeysFile(path)
	if err != nil {
		log.Fatal(err)
	}
	ring, err := signer.NewKeyring(keys...)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ring)

	os.Chmod(path, 0o644)
	_, err = signer.LoadKeysFile(path)
	fmt.Println(errors.Is(err, signer.ErrUnsafeKeyFile))
	// Output:
	// signer.Keyring["production-2026-11"]
	// true
}

func ExampleLoadKeysEnv() {
	vars := map[string]string{ // as os.LookupEnv would find them
		"SMILEID_KEYS":                       "server-2026-11, mobile-2026-11",
		"SMILEID_SERVER_2026_11_PARTNER_ID":  "1622",
		"SMILEID_SERVER_2026_11_API_KEY":     "your-server-to-server-key",
		"SMILEID_SERVER_2026_11_ENVIRONMENT": "production",
		"SMILEID_SERVER_2026_11_CREATED_AT":  "2026-11-02T09:00:00Z",
		"SMILEID_MOBILE_2026_11_PARTNER_ID":  "1622",
		"SMILEID_MOBILE_2026_11_API_KEY":     "your-mobile-integration-key",
		"SMILEID_MOBILE_2026_11_ENVIRONMENT": "production",
	}
	keys, err := signer.LoadKeysEnv("", func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, k := range keys {
		fmt.Println(k.ID, k.Environment)
	}

	// The same key pasted into both slots is refused: one key per integration.
	vars["SMILEID_MOBILE_2026_11_API_KEY"] = vars["SMILEID_SERVER_2026_11_API_KEY"]
	_, err = signer.LoadKeysEnv("", func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
	fmt.Println(err)
	// Output:
	// server-2026-11 production
	// mobile-2026-11 production
	// signer: cannot load keys: SMILEID_KEYS: signer: duplicate API key "mobile-2026-11": APIKey is also the APIKey of "server-2026-11"
}

func ExampleKeyring_Review() {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ring, _ := signer.NewKeyring(
		signer.Key{ID: "prod-2026-08", PartnerID: "1622", APIKey: "old-secret", Environment: signer.Production,
			CreatedAt: now.AddDate(0, 0, -112)},
		signer.Key{ID: "prod-2026-11", PartnerID: "1622", APIKey: "new-secret", Environment: signer.Production,
			CreatedAt: now.AddDate(0, 0, -19)},
		signer.Key{ID: "sandbox-2026-05", PartnerID: "1622", APIKey: "sandbox-secret", Environment: signer.Sandbox,
			CreatedAt: now.AddDate(0, 0, -200), NotAfter: now.AddDate(0, 0, 3)},
	)
	for _, w := range ring.Review(now, signer.KeyPolicy{}) { // rotate every 90 days, warn 14 days before NotAfter
		fmt.Printf("%s: %s (%d days old)\n", w.KeyID, w.Problem, w.Age/(24*time.Hour))
	}

	// What the Guard and the Transport log at start-up, one record per key:
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // for a stable example
			}
			return a
		},
	}))
	signer.LogKeyWarnings(context.Background(), logger, ring.Review(now, signer.KeyPolicy{})[:1])
	// Output:
	// prod-2026-08: older than the rotation age (112 days old)
	// sandbox-2026-05: expires soon (200 days old)
	// level=WARN msg="smileguard: API key needs attention" key.id=prod-2026-08 key.environment=production key.problem="older than the rotation age" key.age_days=112
}
