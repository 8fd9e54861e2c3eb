// Package confirm asks Smile ID whether a callback's body is genuine, for
// middleware.CallbackConfig.Confirm.
//
// Smile ID's signature covers the timestamp and the partner id, not the
// body, so two genuine callbacks signed with one key in the same
// millisecond share a (signature, timestamp) pair, and the guard cannot tell
// the second from a tampered replay of the first. A Confirmer settles it by
// asking Smile ID about the job the body names, through a signer.Transport,
// and comparing Smile ID's own answer with the body:
//
//   - a body-signed (v1, v2) callback with POST /v1/job_status, whose answer
//     must be signed (the Transport's VerifyResponses checks the signature;
//     the Confirmer insists that there is one): the job id, the user id,
//     SmileJobID, ResultCode and ResultText must match;
//   - a header-signed (v3) callback with GET /v3/status/{job_id}, with the
//     Transport's token: the job id, the user id and the status must match.
//
// A body that names no job cannot be asked about and is refuted; Smile ID
// unreachable, or answering with an error, is a failure to confirm (the
// guard answers 503, and Smile ID's retry asks again).
//
// Wiring, with the Transport of each environment's key:
//
//	production := &http.Client{Transport: &signer.Transport{Key: productionKey, VerifyResponses: true}}
//	confirmer, err := confirm.New(confirm.Config{Production: production})
//	...
//	middleware.CallbackConfig{Keyring: keyring, Confirm: confirmer}
package confirm
