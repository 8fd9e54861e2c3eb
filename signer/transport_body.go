package signer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/smileguard/smileguard/internal/bodyread"
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
	// over [MaxSignedBodyBytes]. Nothing was sent.
	ErrBodyTooLarge = errors.New("signer: /v1/ request body over MaxSignedBodyBytes")
)

// isV1 reports whether path is one of Smile ID's v1 endpoints, which carry
// the signature in the body. Later versions carry it in headers.
func isV1(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/")
}

// roundTripV1 sends req, bound for a /v1/ path of one of s's hosts, with
// the signature in its body.
func (t *Transport) roundTripV1(s *transportState, req *http.Request) (*http.Response, error) {
	// The body is read and checked before waiting on the limiter, so that
	// a request that cannot be sent does not spend a token; the timestamp
	// is taken after, so that waiting does not age it.
	body, err := readRequestBody(req)
	if err != nil {
		return nil, err
	}
	plan, err := planBody(body)
	if err != nil {
		return nil, err
	}
	if err := t.wait(req.Context()); err != nil {
		return nil, err
	}
	st := s.stamp(t.now())
	out := outgoing(req, 1)
	setBody(out, plan.sign(body, s, st.timestamp, st.signature))
	resp, err := t.base().RoundTrip(out)
	return t.verify(s, req, resp, err, st)
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
	body, err := bodyread.Read(req.Body, req.ContentLength, MaxSignedBodyBytes) // allocation: the body, whole
	if err != nil {
		return nil, fmt.Errorf("signer: reading the request body: %w", err)
	}
	if len(body) > MaxSignedBodyBytes {
		return nil, ErrBodyTooLarge
	}
	return body, nil
}

// bodyPlan is a /v1/ body taken apart: its top-level members, each with
// what signing does to it, and which of the stamped members it has.
type bodyPlan struct {
	members []plannedMember

	hasPartner, hasSignature, hasTimestamp, hasSourceSDK, hasSourceSDKVersion bool
}

type plannedMember struct {
	jsonobj.Member
	action memberAction
}

type memberAction uint8

const (
	keepMember         memberAction = iota // copied byte for byte
	setSignatureMember                     // the first "signature": takes the new value where it stands
	setTimestampMember                     // the first "timestamp": likewise
	dropMember                             // a repeated "signature" or "timestamp"
)

// planBody checks that body is one JSON object, as encoding/json judges
// it, and plans its signing in the same pass. Member names are compared
// decoded, so "partner\u005fid" is partner_id and "sig\u006eature" is
// signature.
func planBody(body []byte) (*bodyPlan, error) {
	p := &bodyPlan{members: make([]plannedMember, 0, 16)} // allocations: the plan, its members (more past 16)
	err := jsonobj.Scan(body, func(m jsonobj.Member) error {
		action := keepMember
		switch key := m.Key(body); {
		case jsonobj.KeyEquals(key, "signature"):
			action = setSignatureMember
			if p.hasSignature {
				action = dropMember
			}
			p.hasSignature = true
		case jsonobj.KeyEquals(key, "timestamp"):
			action = setTimestampMember
			if p.hasTimestamp {
				action = dropMember
			}
			p.hasTimestamp = true
		case jsonobj.KeyEquals(key, "partner_id"), jsonobj.KeyEquals(key, "smile_client_id"):
			p.hasPartner = true
		case jsonobj.KeyEquals(key, "source_sdk"):
			p.hasSourceSDK = true
		case jsonobj.KeyEquals(key, "source_sdk_version"):
			p.hasSourceSDKVersion = true
		}
		p.members = append(p.members, plannedMember{m, action})
		return nil
	})
	if err != nil {
		return nil, ErrNotJSONObject
	}
	return p, nil
}

// sign returns a new body: "signature" and "timestamp" replace the first
// of their name where it stands, and repeats are dropped, so that no
// receiver can pick a stale one; "partner_id", "source_sdk" and
// "source_sdk_version" are appended only when absent. Every other member
// keeps its bytes and its place; white space between members goes. This is
// jsonobj.Set specialised to one scan, shared with the check in planBody,
// and to no allocation but the result.
func (p *bodyPlan) sign(body []byte, s *transportState, timestamp, signature string) []byte {
	// allocation: the signed body, sized once.
	out := make([]byte, 0, len(body)+len(s.partnerIDMember)+len(s.sourceSDKMember)+
		len(s.sourceSDKVersionMember)+len(timestamp)+len(signature)+64)
	out = append(out, '{')
	sep := func() {
		if len(out) > 1 {
			out = append(out, ',')
		}
	}
	for _, m := range p.members {
		switch m.action {
		case keepMember:
			sep()
			out = append(out, body[m.KeyStart:m.ValueEnd]...)
		case setSignatureMember:
			sep()
			out = appendJSONString(append(out, body[m.KeyStart:m.ValueStart]...), signature)
		case setTimestampMember:
			sep()
			out = appendJSONString(append(out, body[m.KeyStart:m.ValueStart]...), timestamp)
		}
	}
	if !p.hasPartner {
		sep()
		out = append(out, s.partnerIDMember...)
	}
	if !p.hasSignature {
		sep()
		out = appendJSONString(append(out, `"signature":`...), signature)
	}
	if !p.hasTimestamp {
		sep()
		out = appendJSONString(append(out, `"timestamp":`...), timestamp)
	}
	if !p.hasSourceSDK {
		sep()
		out = append(out, s.sourceSDKMember...)
	}
	if !p.hasSourceSDKVersion {
		sep()
		out = append(out, s.sourceSDKVersionMember...)
	}
	return append(out, '}')
}

// appendJSONString appends s as a JSON string. Signatures (base64) and
// timestamps need no escapes; anything else goes through encoding/json.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			v, _ := json.Marshal(s) // a string always marshals
			return append(dst, v...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

// jsonMember returns the raw member "name":"value".
func jsonMember(name, value string) []byte {
	return appendJSONString(append(appendJSONString(nil, name), ':'), value)
}

// setBody makes body the body of out, the outgoing request, with a
// matching Content-Length and GetBody. A body that was streamed with
// chunked encoding now has a known length, so Transfer-Encoding goes.
func setBody(out *http.Request, body []byte) {
	out.Body = io.NopCloser(bytes.NewReader(body)) // allocations: the reader and its closer
	out.ContentLength = int64(len(body))
	out.GetBody = func() (io.ReadCloser, error) { // allocation: the closure
		return io.NopCloser(bytes.NewReader(body)), nil
	}
	out.TransferEncoding = nil
	out.Header.Del("Transfer-Encoding")
	out.Header.Del("Content-Length")
	if out.Header.Get("Content-Type") == "" {
		out.Header.Set("Content-Type", "application/json") // allocation: the value, if the caller set none
	}
}
