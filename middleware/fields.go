package middleware

import (
	"bytes"

	"github.com/smileguard/smileguard/internal/jsonobj"
)

// findFields returns the raw values of the top-level "signature" and
// "timestamp" members of body in one pass over its bytes. Escaped member
// names are understood ("sig\u006eature" is signature), nested members are
// ignored, and the whole body must be one valid JSON object. Each member
// must be present once and be a string.
func findFields(body []byte) (signature, timestamp []byte, err error) {
	var sigCount, tsCount int
	err = jsonobj.Scan(body, func(m jsonobj.Member) error {
		key := m.Key(body)
		switch {
		case jsonobj.KeyEquals(key, "signature"):
			sigCount++
			signature = m.Value(body)
		case jsonobj.KeyEquals(key, "timestamp"):
			tsCount++
			timestamp = m.Value(body)
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, nil, errNotObject
	case sigCount == 0:
		return nil, nil, errMissingSignature
	case tsCount == 0:
		return nil, nil, errMissingTimestamp
	case sigCount > 1:
		return nil, nil, errDuplicateSignature
	case tsCount > 1:
		return nil, nil, errDuplicateTimestamp
	case signature[0] != '"':
		return nil, nil, errSignatureNotString
	case timestamp[0] != '"':
		return nil, nil, errTimestampNotString
	}
	return signature, timestamp, nil
}

// plainString returns the contents of a string token that has no escapes,
// which therefore decodes to itself.
func plainString(raw []byte) ([]byte, bool) {
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') >= 0 {
		return nil, false
	}
	return body, true
}
