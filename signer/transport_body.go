package signer

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/smileguard/smileguard/internal/jsonobj"
)

// MaxSignedBodyBytes is the largest /v1/ request body Transport signs: the
// whole body is held in memory to be rewritten. Smile ID's v1 JSON bodies
// are small, but some carry base64 images of a few megabytes; 32 MiB leaves
// room for several while bounding what a runaway body reader can cost.
const MaxSignedBodyBytes = 32 << 20

var (
	// ErrNotJSONObject means a request to a signed host's /v1/ path did
	// not have a JSON object as its body, so there was nowhere to put the
	// signature. Nothing was sent.
	ErrNotJSONObject = errors.New("signer: /v1/ request body is not a JSON object")

	// ErrBodyTooLarge means a /v1/ request body, declared or actual, was
	// over MaxSignedBodyBytes. Nothing was sent.
	ErrBodyTooLarge = errors.New("signer: /v1/ request body over MaxSignedBodyBytes")
)

// isV1 reports whether path is one of Smile ID's v1 endpoints, which carry
// the signature in the body. Later versions carry it in headers.
func isV1(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/")
}

// readRequestBody reads and closes the body of a /v1/ request.
func readRequestBody(req *http.Request) ([]byte, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, ErrNotJSONObject
	}
	defer req.Body.Close()
	if req.ContentLength > MaxSignedBodyBytes {
		return nil, ErrBodyTooLarge
	}
	body, err := readBounded(req.Body, req.ContentLength, MaxSignedBodyBytes)
	if err != nil {
		return nil, fmt.Errorf("signer: reading the request body: %w", err)
	}
	if len(body) > MaxSignedBodyBytes {
		return nil, ErrBodyTooLarge
	}
	return body, nil
}

// readBounded reads r to its end, or to one byte past limit, whichever
// comes first: a result longer than limit means r was. sizeHint, the
// declared length or -1, sizes the buffer so that a body of that length is
// read without growing it.
func readBounded(r io.Reader, sizeHint, limit int64) ([]byte, error) {
	size := int64(512)
	if sizeHint >= 0 && sizeHint <= limit {
		size = sizeHint + 1 // room to read io.EOF without growing
	}
	buf := make([]byte, 0, size)
	r = io.LimitReader(r, limit+1)
	for {
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // let append pick the growth
		}
	}
}

// bodyPlan records which optional members a /v1/ body already has.
type bodyPlan struct {
	hasPartner, hasSourceSDK, hasSourceSDKVersion bool
}

// planBody checks that body is one JSON object, as encoding/json judges
// it, and notes the members that are only added when absent. Member names
// are compared decoded, so "partner\u005fid" is partner_id.
func planBody(body []byte) (bodyPlan, error) {
	var p bodyPlan
	err := jsonobj.Scan(body, func(m jsonobj.Member) error {
		key := m.Key(body)
		switch {
		case jsonobj.KeyEquals(key, "partner_id"), jsonobj.KeyEquals(key, "smile_client_id"):
			p.hasPartner = true
		case jsonobj.KeyEquals(key, "source_sdk"):
			p.hasSourceSDK = true
		case jsonobj.KeyEquals(key, "source_sdk_version"):
			p.hasSourceSDKVersion = true
		}
		return nil
	})
	if err != nil {
		return p, ErrNotJSONObject
	}
	return p, nil
}

// sign returns body with the signature members set. "signature" and
// "timestamp" replace any present (the first keeps its place, repeats are
// dropped, so the receiver cannot pick a stale one); the others are added
// only when absent. Every other member keeps its bytes and its place.
func (p bodyPlan) sign(body []byte, s *transportState, timestamp, signature string) ([]byte, error) {
	var fields [5]jsonobj.Field
	n := 0
	add := func(f jsonobj.Field) { fields[n] = f; n++ }
	if !p.hasPartner {
		add(s.partnerIDMember)
	}
	add(jsonobj.StringField("signature", signature))
	add(jsonobj.StringField("timestamp", timestamp))
	if !p.hasSourceSDK {
		add(s.sourceSDKMember)
	}
	if !p.hasSourceSDKVersion {
		add(s.sourceSDKVersionMember)
	}
	signed, err := jsonobj.Set(body, fields[:n]...)
	if err != nil {
		return nil, ErrNotJSONObject // planBody accepted body; kept for safety
	}
	return signed, nil
}

// setBody makes body the body of out, a clone the transport owns, with a
// matching Content-Length and GetBody. A body that was streamed with
// chunked encoding now has a known length, so Transfer-Encoding goes.
func setBody(out *http.Request, body []byte) {
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(body)), nil
	}
	out.TransferEncoding = nil
	out.Header.Del("Transfer-Encoding")
	out.Header.Del("Content-Length")
	if out.Header.Get("Content-Type") == "" {
		out.Header.Set("Content-Type", "application/json")
	}
}
