// Package sample makes signed Smile ID callbacks for testing a receiver:
// realistic sample bodies for each format, timestamps in the style of each
// official SDK, and the signature, in the body (v1/v2) or in headers (v3).
package sample

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// A Style is how a timestamp is written: each official SDK writes its own
// (PROTOCOL.md), and a receiver must take them all.
type Style string

// The timestamp styles.
const (
	ISOMillis Style = "iso-ms"  // 2026-11-21T10:00:00.000Z: JavaScript toISOString, Smile ID's documented format
	Python    Style = "python"  // 2026-11-21T10:00:00.123456+00:00, no fraction when zero
	Ruby      Style = "ruby"    // 2026-11-21 10:00:00 +0000
	PHP       Style = "php"     // 2026-11-21T10:00:00+00:00 (DATE_ATOM)
	Java      Style = "java"    // 2026-11-21T10:00:00.123456789Z (Instant.toString: 0, 3, 6 or 9 digits)
	Unix      Style = "unix"    // 1763719200
	UnixMilli Style = "unix-ms" // 1763719200123
)

// Styles lists every style, for help texts and validation.
var Styles = []Style{ISOMillis, Python, Ruby, PHP, Java, Unix, UnixMilli}

// Format writes t in the style s.
func (s Style) Format(t time.Time) (string, error) {
	t = t.UTC()
	switch s {
	case ISOMillis, "":
		return signer.FormatTimestamp(t), nil
	case Python:
		if t.Nanosecond()/1000 == 0 {
			return t.Format("2006-01-02T15:04:05-07:00"), nil
		}
		return t.Format("2006-01-02T15:04:05.000000-07:00"), nil
	case Ruby:
		return t.Format("2006-01-02 15:04:05 -0700"), nil
	case PHP:
		return t.Format("2006-01-02T15:04:05-07:00"), nil
	case Java:
		ns := t.Nanosecond()
		switch {
		case ns == 0:
			return t.Format("2006-01-02T15:04:05Z"), nil
		case ns%1e6 == 0:
			return t.Format("2006-01-02T15:04:05.000Z"), nil
		case ns%1e3 == 0:
			return t.Format("2006-01-02T15:04:05.000000Z"), nil
		}
		return t.Format("2006-01-02T15:04:05.000000000Z"), nil
	case Unix:
		return strconv.FormatInt(t.Unix(), 10), nil
	case UnixMilli:
		return strconv.FormatInt(t.UnixMilli(), 10), nil
	}
	return "", fmt.Errorf("unknown timestamp style %q", string(s))
}

// Body returns a realistic unsigned callback body for format, with fresh
// job and user ids, created at t.
func Body(format middleware.CallbackFormat, t time.Time) []byte {
	if format == middleware.HeaderSigned {
		return []byte(`{"job_id":"job_` + id(26) + `","user_id":"user_` + id(26) + `","status":"clear","message":"Verified",` +
			`"product":"enhanced_kyc","partner_params":{"order_id":"order-` + id(8) + `"},` +
			`"kyc_receipt":"https://example.com/receipts/` + id(12) + `","created_at":"` + t.UTC().Format(time.RFC3339) + `"}`)
	}
	return []byte(`{"SmileJobID":"00000` + digits(5) + `","PartnerParams":{"job_id":"job-` + id(12) + `","user_id":"user-` + id(12) + `","job_type":5},` +
		`"ResultType":"ID Verification","ResultText":"ID Number Validated","ResultCode":"1012","IsFinalResult":"true",` +
		`"Actions":{"Verify_ID_Number":"Verified","Return_Personal_Info":"Returned","Names":"Exact Match","DOB":"Exact Match"},` +
		`"Country":"NG","IDType":"NIN_V2","IDNumber":"00000000000","FullName":"ADA LOVELACE","DOB":"1815-12-10",` +
		`"Source":"NIMC","JSONVersion":"1.0.0"}`)
}

// base32 is the alphabet of Smile ID's v3 ids (Crockford's, lower case).
const base32 = "0123456789abcdefghjkmnpqrstvwxyz"

func id(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = base32[b[i]%32]
	}
	return string(b)
}

func digits(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}

// A Signed is a signed callback: its body and the headers to send with it.
type Signed struct {
	Body      []byte
	Header    http.Header // Content-Type, and for a header-signed one the signature headers
	Timestamp string
	Format    middleware.CallbackFormat
}

// Options say how to sign.
type Options struct {
	Format           middleware.CallbackFormat // "" : BodySigned
	Style            Style                     // "" : ISOMillis
	At               time.Time
	TrimmedPartnerID bool // sign with the partner id without leading zeros, as Smile ID's v3 API spells it
}

// Sign signs body with key as opts say. A body-signed callback gets its
// "signature" and "timestamp" members set (signertest.SignCallback); a
// header-signed one is sent as is, with the signature in
// Response-Signature and Response-Timestamp.
func Sign(key signer.Key, body []byte, opts Options) (Signed, error) {
	ts, err := opts.Style.Format(opts.At)
	if err != nil {
		return Signed{}, err
	}
	if opts.TrimmedPartnerID {
		key.PartnerID = signer.TrimPartnerID(key.PartnerID)
	}
	s := Signed{Header: http.Header{"Content-Type": {"application/json"}}, Timestamp: ts, Format: opts.Format}
	switch opts.Format {
	case middleware.HeaderSigned:
		s.Body = body
		s.Header.Set(middleware.SignatureHeader, signer.Sign(key.APIKey, key.PartnerID, ts))
		s.Header.Set(middleware.TimestampHeader, ts)
	case middleware.BodySigned, "":
		s.Format = middleware.BodySigned
		if s.Body, err = signertest.SignCallbackWithTimestamp(key, body, ts); err != nil {
			return Signed{}, errors.New("the body is not a JSON object")
		}
	default:
		return Signed{}, fmt.Errorf("unknown format %q", string(opts.Format))
	}
	return s, nil
}
