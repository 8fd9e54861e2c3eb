package signer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/smileguard/smileguard/internal/bodyread"
	"github.com/smileguard/smileguard/internal/jsonobj"
)

// MaxVerifiedResponseBytes is the largest response body Transport reads to
// verify when VerifyResponses is set. A job_status response, even with a
// base64 photo in it, is a fraction of this. A larger body cannot be
// verified and is refused, so that padding cannot carry a forged response
// past the check.
const MaxVerifiedResponseBytes = 8 << 20

// ErrInvalidResponseSignature means an answer from one of a Transport's
// hosts did not verify, or could not be verified, while VerifyResponses was
// set. The answer's body was closed and RoundTrip returned no response.
//
// An answer is verified in each carrier it uses, and in both when it uses
// both: its Response-Signature and Response-Timestamp headers (each
// exactly once, the signature over the timestamp and Key.PartnerID, with
// or without its leading zeros), and the top-level "signature" and
// "timestamp" members of its body (each once, as strings, over
// Key.PartnerID as configured). Any body whose first byte after JSON white
// space is '{' must be exactly one valid JSON object, since a streaming
// decoder would read a forged object and ignore what follows; a
// compressed body, or one over [MaxVerifiedResponseBytes], cannot be
// checked and is refused. An answer that carries the signature and
// timestamp its request carried is refused too: whoever reflects them
// proves nothing, and a genuine answer stamped with the request's own
// millisecond cannot be told from a reflection. An answer with neither carrier passes unchanged, so
// insist on a signature where your protocol expects one. The timestamp's
// freshness is not checked.
var ErrInvalidResponseSignature = errors.New("signer: invalid response signature")

// Reasons a response cannot be verified. They match
// ErrInvalidResponseSignature: a response that cannot be verified is not
// trusted.
var (
	errResponseTooLarge  = wrapped{"signer: invalid response signature: body over MaxVerifiedResponseBytes", ErrInvalidResponseSignature}
	errResponseEncoded   = wrapped{"signer: invalid response signature: body has a Content-Encoding", ErrInvalidResponseSignature}
	errResponseSyntax    = wrapped{"signer: invalid response signature: body starts like a JSON object but is not one", ErrInvalidResponseSignature}
	errResponseMembers   = wrapped{"signer: invalid response signature: signature or timestamp missing, repeated, not a string, or named in another case", ErrInvalidResponseSignature}
	errResponseHeaders   = wrapped{"signer: invalid response signature: Response-Signature or Response-Timestamp missing or repeated", ErrInvalidResponseSignature}
	errResponseReflected = wrapped{"signer: invalid response signature: the request's own signature and timestamp", ErrInvalidResponseSignature}
)

// verifyResponse checks the signatures of an answer to a request to one
// of the state's hosts, as ErrInvalidResponseSignature describes; sent is
// what the request carried, if it was signed. On success the caller gets
// the response with a body that replays the exact bytes that arrived; on
// failure the body is closed and the error says why without quoting it.
//
// The body is judged by its bytes, not its Content-Type: a caller decodes
// what it reads whatever the header says, so a forged response must not
// skip the check by calling itself text/plain.
func (s *transportState) verifyResponse(req *http.Request, resp *http.Response, sent stamp) (*http.Response, error) {
	fail := func(err error) (*http.Response, error) {
		if resp.Body != nil {
			resp.Body.Close()
		}
		return nil, err
	}
	if err := s.checkResponseHeaders(resp.Header, sent); err != nil {
		return fail(err)
	}
	if req.Method == http.MethodHead || resp.Body == nil || resp.Body == http.NoBody {
		return resp, nil
	}
	// Bytes the caller would decompress could hide a forged object from
	// the check. net/http decompresses, and drops the header, only when it
	// asked for compression itself.
	for _, coding := range resp.Header.Values("Content-Encoding") {
		if c := strings.TrimSpace(coding); c != "" && !asciiEqualFold(c, "identity") {
			return fail(errResponseEncoded)
		}
	}
	if resp.ContentLength > MaxVerifiedResponseBytes {
		return fail(errResponseTooLarge)
	}
	body, err := bodyread.Read(resp.Body, resp.ContentLength, MaxVerifiedResponseBytes) // allocation: the body, whole
	if err != nil {
		return fail(fmt.Errorf("signer: reading the response body: %w", err))
	}
	if len(body) > MaxVerifiedResponseBytes {
		return fail(errResponseTooLarge)
	}
	resp.Body.Close()
	if err := s.checkResponseBody(body, sent); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body)) // allocations: the reader and its closer
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// checkResponseHeaders verifies the Response-Signature and
// Response-Timestamp headers, if h has either, however spelt.
func (s *transportState) checkResponseHeaders(h http.Header, sent stamp) error {
	var signature, timestamp string
	signatures, timestamps := 0, 0
	for name, values := range h {
		switch {
		case len(values) == 0:
		case asciiEqualFold(name, "Response-Signature"):
			signatures += len(values)
			signature = values[0]
		case asciiEqualFold(name, "Response-Timestamp"):
			timestamps += len(values)
			timestamp = values[0]
		}
	}
	switch {
	case signatures == 0 && timestamps == 0:
		return nil
	case signatures != 1 || timestamps != 1:
		return errResponseHeaders
	}
	return s.checkSignature(signature, timestamp, sent, true)
}

// checkResponseBody verifies the top-level "signature" and "timestamp" of
// body, if it is a JSON object with either.
func (s *transportState) checkResponseBody(body []byte, sent stamp) error {
	if i := skipJSONSpace(body); i == len(body) || body[i] != '{' {
		return nil
	}
	found, err := jsonobj.FindSigned(body)
	switch {
	case err != nil:
		return errResponseSyntax
	case found.CaseVariants > 0:
		// A caller decoding into a struct would read the variant.
		return errResponseMembers
	case found.Signatures == 0 && found.Timestamps == 0:
		return nil
	case found.Signatures != 1 || found.Timestamps != 1:
		return errResponseMembers
	}
	// allocations: the two strings, decoded.
	sig, ok1 := jsonobj.Unquote(found.Signature)
	ts, ok2 := jsonobj.Unquote(found.Timestamp)
	if !ok1 || !ok2 {
		return errResponseMembers
	}
	return s.checkSignature(sig, ts, sent, false)
}

// checkSignature verifies one carrier's signature and timestamp; trimmed
// also accepts the partner id without its leading zeros.
func (s *transportState) checkSignature(signature, timestamp string, sent stamp, trimmed bool) error {
	if sent.signature != "" && signature == sent.signature && timestamp == sent.timestamp {
		return errResponseReflected
	}
	mac, ok := decodeSignature(signature)
	if !ok {
		return ErrInvalidResponseSignature
	}
	if s.macs.matches(0, s.key.PartnerID, timestamp, mac) ||
		trimmed && s.trimmedPartnerID != s.key.PartnerID && s.macs.matches(0, s.trimmedPartnerID, timestamp, mac) {
		return nil
	}
	return ErrInvalidResponseSignature
}

// skipJSONSpace returns the index of the first byte of b that is not JSON
// white space.
func skipJSONSpace(b []byte) int {
	i := 0
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
