'use strict';

// sdk.js runs Smile ID's official Node SDK (smile-identity-core, pinned in
// package.json) for smileguard's interop tests (examples/interop). It reads
// one JSON request on stdin and writes one JSON answer on stdout, so that a
// test starts one node process per direction, not one per signature.
//
//   node sdk.js generate   stdin:  [{"partner_id", "api_key", "timestamp"?, "fields"?}, ...]
//                          stdout: {"sdk_version", "results": [{"signature", "timestamp", "body"}, ...]}
//
//     Each signature is made with new Signature(partner_id, api_key)
//     .generate_signature(timestamp): without "timestamp" the SDK picks its
//     default (new Date().toISOString()); a string or a number is passed as
//     is. "timestamp" in the answer is what the SDK returned, of whatever
//     JSON type. "body" is JSON.stringify({...fields, ...generated}), the
//     object spread the SDK itself uses to build its request bodies.
//
//   node sdk.js confirm    stdin:  [{"partner_id", "api_key", "timestamp", "signature"}, ...]
//                          stdout: {"sdk_version", "results": [{"ok", "error"?}, ...]}
//
//     Each verdict is new Signature(partner_id, api_key)
//     .confirm_signature(timestamp, signature). The SDK throws for a
//     timestamp that JavaScript's Date cannot parse; that becomes "ok": false
//     with the exception's name and message in "error".
//
// Nothing of the input (API keys, signatures) is echoed in an error.

const fs = require('fs');
const { Signature } = require('smile-identity-core');
const sdkVersion = require('smile-identity-core/package.json').version;

function generate(item) {
  const signer = new Signature(item.partner_id, item.api_key);
  const generated = 'timestamp' in item
    ? signer.generate_signature(item.timestamp)
    : signer.generate_signature();
  return {
    signature: generated.signature,
    timestamp: generated.timestamp,
    body: JSON.stringify({ ...(item.fields || {}), ...generated }),
  };
}

function confirm(item) {
  try {
    const ok = new Signature(item.partner_id, item.api_key)
      .confirm_signature(item.timestamp, item.signature);
    return { ok };
  } catch (err) {
    return { ok: false, error: `${err.name}: ${err.message}` };
  }
}

const commands = { generate, confirm };

function main() {
  const command = commands[process.argv[2]];
  if (!command) {
    process.stderr.write('usage: node sdk.js generate|confirm < request.json\n');
    process.exit(2);
  }
  const items = JSON.parse(fs.readFileSync(0, 'utf8'));
  if (!Array.isArray(items)) {
    process.stderr.write('sdk.js: the request is not a JSON array\n');
    process.exit(2);
  }
  const results = items.map(command);
  process.stdout.write(JSON.stringify({ sdk_version: sdkVersion, results }) + '\n');
}

main();
