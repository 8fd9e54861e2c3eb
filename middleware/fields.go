package middleware

import (
	"github.com/smileguard/smileguard/internal/jsonobj"
)

// findFields returns the raw values of the top-level "signature" and
// "timestamp" members of body in one pass over its bytes. Escaped member
// names are understood ("sig\u006eature" is signature), nested members are
// ignored, and the whole body must be one valid JSON object. Each member
// must be present once and be a string, and no other top-level member may
// be named like either in another case ("Signature", "ſignature"), as
// encoding/json would match it to a struct field: a handler decoding the
// body into a struct would read that member's value, which nobody checked.
// The checks run in the order of the answers table, so that a body with
// both faults gets the first one's reason.
func findFields(body []byte) (signature, timestamp []byte, err error) {
	found, err := jsonobj.FindSigned(body)
	switch {
	case err != nil:
		return nil, nil, errNotObject
	case found.Signatures == 0:
		return nil, nil, errMissingSignature
	case found.Timestamps == 0:
		return nil, nil, errMissingTimestamp
	case found.Signatures > 1:
		return nil, nil, errDuplicateSignature
	case found.Timestamps > 1:
		return nil, nil, errDuplicateTimestamp
	case found.Signature[0] != '"':
		return nil, nil, errSignatureNotString
	case found.Timestamp[0] != '"':
		return nil, nil, errTimestampNotString
	case found.CaseVariants > 0:
		return nil, nil, errCaseVariant
	}
	return found.Signature, found.Timestamp, nil
}
