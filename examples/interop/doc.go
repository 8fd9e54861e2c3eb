// Package interop holds no code, only tests: they hold smileguard to Smile
// ID's official Node SDK, smile-identity-core 3.2.1 from the npm registry,
// in both directions.
//
//   - Node to Go: signatures the SDK generates verify with signer.Verify, and a
//     middleware.Guard admits them both as Response-Signature and
//     Response-Timestamp headers on a v3 callback body and as "signature"
//     and "timestamp" members of a v1 callback body.
//   - Go to Node: signatures made by signer.Sign and signertest.SignCallback
//     are confirmed by the SDK's own Signature.confirm_signature.
//   - Timestamps: the SDK's default timestamp (JavaScript's
//     Date.toISOString) parses with signer.ParseTimestamp, is fresh, and is
//     exactly what signer.FormatTimestamp writes.
//
// The SDK runs in node, pinned by testdata/package.json and
// testdata/package-lock.json; testdata/sdk.js is the bridge, one process per
// direction. Install it with
//
//	npm ci --ignore-scripts --prefix examples/interop/testdata
//
// Without node or that install the tests are skipped, unless the
// environment variable SMILEGUARD_REQUIRE_NODE is set (CI sets it to 1),
// which fails them instead.
//
// What the tests found about the SDK: Signature(partnerID, apiKey) signs
// base64(HMAC-SHA256(apiKey, timestamp + partnerID + "sid_request")) with
// the partner id as given ("085" is not "85"); its default timestamp is
// new Date().toISOString() ("2026-11-21T10:00:00.000Z", UTC, milliseconds);
// a timestamp given as a string is signed byte for byte, but one given as a
// number (unix milliseconds) is signed in its toISOString form while the
// number itself is returned, so such a pair verifies only against the ISO
// text; and confirm_signature throws for a timestamp that Date cannot
// parse, such as unix seconds or milliseconds sent as a string.
package interop
