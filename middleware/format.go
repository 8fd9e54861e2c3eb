package middleware

import (
	"fmt"
	"net/http"
)

// CallbackFormat says how a callback carries its signature.
type CallbackFormat string

// The callback formats Smile ID uses.
const (
	// BodySigned (v1, v2): top-level "signature" and "timestamp" members
	// of the JSON body.
	BodySigned CallbackFormat = "body"
	// HeaderSigned (v3 webhooks): the Response-Signature and
	// Response-Timestamp headers, over the same message; the body's own
	// members are not consulted.
	HeaderSigned CallbackFormat = "header"
)

// The headers of a header-signed callback.
const (
	SignatureHeader = "Response-Signature"
	TimestampHeader = "Response-Timestamp"
)

// formatSet is the set of formats a verifier accepts.
type formatSet struct{ body, header bool }

func newFormatSet(formats []CallbackFormat) (formatSet, error) {
	if formats == nil {
		return formatSet{body: true, header: true}, nil
	}
	var s formatSet
	for i, f := range formats {
		switch f {
		case BodySigned:
			s.body = true
		case HeaderSigned:
			s.header = true
		default:
			return formatSet{}, fmt.Errorf("middleware: CallbackConfig.Formats[%d] %q is neither %q nor %q", i, f, BodySigned, HeaderSigned)
		}
	}
	if !s.body && !s.header {
		return formatSet{}, fmt.Errorf("middleware: CallbackConfig.Formats is empty: nothing would be accepted (nil accepts both)")
	}
	return s, nil
}

func (s formatSet) accepts(f CallbackFormat) bool {
	if f == HeaderSigned {
		return s.header
	}
	return s.body
}

// signatureHeaders tells a request's format by its headers: header-signed
// if it has either signature header. For a header-signed request it
// returns both values, or the reason they are unusable (one without the
// other, or either repeated), which the verifier reports in its place in
// the order of checks.
func signatureHeaders(h http.Header) (format CallbackFormat, signature, timestamp string, problem error) {
	sigs, stamps := h[SignatureHeader], h[TimestampHeader]
	switch {
	case len(sigs) == 0 && len(stamps) == 0:
		return BodySigned, "", "", nil
	case len(sigs) > 1 || len(stamps) > 1:
		return HeaderSigned, "", "", errHeaderRepeated
	case len(sigs) == 0 || len(stamps) == 0:
		return HeaderSigned, "", "", errHeaderMissing
	}
	return HeaderSigned, sigs[0], stamps[0], nil
}
