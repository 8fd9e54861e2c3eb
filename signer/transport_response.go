package signer

import (
	"bytes"
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

// Reasons a response cannot be verified. They match
// ErrInvalidResponseSignature: a response that cannot be verified is not
// trusted.
var (
	errResponseTooLarge = wrapped{"signer: invalid response signature: body over MaxVerifiedResponseBytes", ErrInvalidResponseSignature}
	errResponseEncoded  = wrapped{"signer: invalid response signature: body has a Content-Encoding", ErrInvalidResponseSignature}
	errResponseSyntax   = wrapped{"signer: invalid response signature: body starts like a JSON object but is not one", ErrInvalidResponseSignature}
	errResponseMembers  = wrapped{"signer: invalid response signature: signature or timestamp missing, repeated or not a string", ErrInvalidResponseSignature}
)

// verifyResponse checks the top-level "signature" and "timestamp" of a
// response to a signed request. On success the caller gets the response
// with a body that replays the exact bytes that arrived; on failure the
// body is closed and the error says why without quoting it.
//
// The body is judged by its bytes, not its Content-Type: a caller decodes
// what it reads whatever the header says, so a forged response must not
// skip the check by calling itself text/plain. Any body whose first byte
// after JSON white space is '{' must be exactly one valid JSON object (a
// streaming decoder would otherwise read a forged object and ignore what
// follows); it is verified if it has either member, and must then have
// both, once each, as strings. Other bodies (an HTML error page, an empty
// body) pass unchanged.
func (s *transportState) verifyResponse(req *http.Request, resp *http.Response) (*http.Response, error) {
	if req.Method == http.MethodHead || resp.Body == nil || resp.Body == http.NoBody {
		return resp, nil
	}
	fail := func(err error) (*http.Response, error) {
		resp.Body.Close()
		return nil, err
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
	body, err := bodyread.Read(resp.Body, resp.ContentLength, MaxVerifiedResponseBytes)
	if err != nil {
		return fail(fmt.Errorf("signer: reading the response body: %w", err))
	}
	if len(body) > MaxVerifiedResponseBytes {
		return fail(errResponseTooLarge)
	}
	resp.Body.Close()
	if err := s.checkResponse(body); err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// checkResponse verifies body as verifyResponse describes.
func (s *transportState) checkResponse(body []byte) error {
	if i := skipJSONSpace(body); i == len(body) || body[i] != '{' {
		return nil
	}
	found, err := jsonobj.FindSigned(body)
	switch {
	case err != nil:
		return errResponseSyntax
	case found.Signatures == 0 && found.Timestamps == 0:
		return nil
	case found.Signatures != 1 || found.Timestamps != 1:
		return errResponseMembers
	}
	sig, ok1 := jsonobj.Unquote(found.Signature)
	ts, ok2 := jsonobj.Unquote(found.Timestamp)
	if !ok1 || !ok2 {
		return errResponseMembers
	}
	if !s.mac.verify(ts, sig) {
		return ErrInvalidResponseSignature
	}
	return nil
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
