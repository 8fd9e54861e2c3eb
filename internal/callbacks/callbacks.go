// Package callbacks makes the unsigned Smile ID callback bodies that the
// benchmarks and the load test send, shaped like the ones Smile ID posts.
package callbacks

import (
	"strings"
)

// head is a document-verification result with every member Smile ID sends
// for one, less the optional photo, up to the job id (which follows).
const head = `{"SmileJobID":"0000012345","PartnerParams":{"user_id":"b3b5e7f1-7c4d-5c9f-0b5a-2d3e4f5a6b7c","job_type":5,"job_id":"`

// tail ends PartnerParams and holds the result members.
const tail = `"},"ResultType":"ID Verification","ResultText":"ID Number Validated","ResultCode":"1012","IsFinalResult":"true",` +
	`"Actions":{"Verify_ID_Number":"Verified","Return_Personal_Info":"Returned","Names":"Exact Match","DOB":"Exact Match","Gender":"Exact Match","Phone_Number":"Not Provided","ID_Verification":"Verified"},` +
	`"Country":"NG","IDType":"NIN_V2","IDNumber":"00000000000","FullName":"ADA LOVELACE","ExpirationDate":"Not Available","DOB":"1815-12-10","Gender":"F",` +
	`"Address":"12 Marylebone Road, London","PhoneNumber":"+2340000000000","Source":"NIMC","JSONVersion":"1.0.0","ImageLinks":{"selfie_image":"https://smile-fr-results.s3.amazonaws.com/test/selfie.jpg"},`

// photo is the padding: base64 of "ABC" repeated, enough for a 2 MiB body.
var photo = strings.Repeat("QUJD", 2<<20/4)

// SignedOverhead is about what signing adds to a body: the "signature" and
// "timestamp" members.
const SignedOverhead = len(`,"signature":"XxThLHZy2ij1WINkqNEPgzVs9RvUDHWlebDYzprqS74=","timestamp":"2026-11-21T10:00:00.000Z"`)

// Body returns an unsigned callback for jobID of about size bytes once
// signed: the usual members, padded with a base64 photo in FullData as some
// ID types send. It never returns less than the members without a photo.
func Body(jobID string, size int) []byte {
	var b strings.Builder
	const photoOpen, photoClose = `"FullData":{"Photo":"`, `"}}`
	fixed := len(head) + len(jobID) + len(tail) + len(photoOpen) + len(photoClose) + SignedOverhead
	b.Grow(max(size-SignedOverhead, fixed))
	b.WriteString(head)
	b.WriteString(jobID)
	b.WriteString(tail)
	b.WriteString(photoOpen)
	if pad := (size - fixed) / 4 * 4; pad > 0 {
		b.WriteString(photo[:min(pad, len(photo))])
	}
	b.WriteString(photoClose)
	return []byte(b.String())
}
