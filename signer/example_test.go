package signer_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/smileguard/smileguard/signer"
)

func ExampleSign() {
	// The official Java SDK's test vector.
	fmt.Println(signer.Sign("apiKey", "partner", "2023-02-13T15:07:42.214Z"))
	// Output: XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=
}

func ExampleKeyring_Verify() {
	// Rotation: the old production key stays valid for three days after the
	// new one starts, so callbacks for older jobs still verify.
	cutover := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	ring, err := signer.NewKeyring(
		signer.Key{ID: "prod-2026-08", PartnerID: "1622", APIKey: "old-secret", Environment: signer.Production,
			NotAfter: cutover.Add(72 * time.Hour)},
		signer.Key{ID: "prod-2026-11", PartnerID: "1622", APIKey: "new-secret", Environment: signer.Production,
			NotBefore: cutover},
		signer.Key{ID: "sandbox", PartnerID: "1622", APIKey: "sandbox-secret", Environment: signer.Sandbox},
	)
	if err != nil {
		panic(err)
	}

	timestamp := "2026-11-22T10:00:00.000Z"
	signature := signer.Sign("old-secret", "1622", timestamp) // as Smile ID would send it
	key, err := ring.VerifyAt(cutover.Add(24*time.Hour), timestamp, signature, signer.Production)
	fmt.Println(key.ID, err)

	_, err = ring.VerifyAt(cutover.Add(96*time.Hour), timestamp, signature, signer.Production)
	fmt.Println(errors.Is(err, signer.ErrInvalidSignature))

	fmt.Println(key) // keys never print their secret
	// Output:
	// prod-2026-08 <nil>
	// true
	// signer.Key{ID: "prod-2026-08", PartnerID: "1622", Environment: "production", APIKey: [REDACTED], NotAfter: 2026-11-24T00:00:00Z}
}

func ExampleParseTimestamp() {
	for _, s := range []string{
		"2026-11-21T10:00:00.000Z",         // JavaScript
		"2026-11-21T10:00:00.123456+00:00", // Python
		"2026-11-21 11:00:00 +0100",        // Ruby
		"1763719200",                       // unix seconds
		"2026-02-30T10:00:00Z",             // no such day
	} {
		t, err := signer.ParseTimestamp(s)
		if err != nil {
			fmt.Println(errors.Is(err, signer.ErrBadTimestamp), err)
			continue
		}
		fmt.Println(signer.FormatTimestamp(t))
	}
	// Output:
	// 2026-11-21T10:00:00.000Z
	// 2026-11-21T10:00:00.123Z
	// 2026-11-21T10:00:00.000Z
	// 2025-11-21T10:00:00.000Z
	// true signer: bad timestamp: date or time out of range
}
