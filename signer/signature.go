package signer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"sync"
)

// requestSuffix ends every signed message.
const requestSuffix = "sid_request"

// signatureLen is the length of a signature: the standard, padded base64
// encoding of a 32-byte HMAC-SHA256.
const signatureLen = 44

// strictBase64 refuses non-zero padding bits, so each 32-byte MAC has
// exactly one accepted spelling. Without it "...Q=" and "...R=" would both
// verify, and a replay guard keyed on the signature text could be walked
// around.
var strictBase64 = base64.StdEncoding.Strict()

// Sign returns the Smile ID signature for timestamp and partnerID:
// base64(HMAC-SHA256(key=apiKey, message=timestamp+partnerID+"sid_request")),
// in standard, padded base64. The timestamp is signed byte for byte as given;
// send it exactly as signed.
func Sign(apiKey, partnerID, timestamp string) string {
	return base64.StdEncoding.EncodeToString(newMAC(apiKey).sum(partnerID, timestamp))
}

// Verify reports whether signature is the Smile ID signature of timestamp
// and partnerID under apiKey. The comparison takes constant time. It returns
// false for an empty API key, an empty signature, one that is not standard
// padded base64, and one that does not decode to exactly 32 bytes.
func Verify(apiKey, partnerID, timestamp, signature string) bool {
	want, ok := decodeSignature(signature)
	if !ok || apiKey == "" {
		return false
	}
	return hmac.Equal(newMAC(apiKey).sum(partnerID, timestamp), want[:])
}

// mac computes signatures under one API key. Its buffers are reused from
// call to call, and hmac's Reset restores the key's precomputed pads, so a
// pooled mac signs without allocating. A mac is not safe for concurrent use.
type mac struct {
	h   hash.Hash
	msg []byte
	out []byte
}

func newMAC(apiKey string) *mac {
	return &mac{
		h:   hmac.New(sha256.New, []byte(apiKey)),
		msg: make([]byte, 0, 128),
		out: make([]byte, 0, sha256.Size),
	}
}

// sum returns the MAC of timestamp+partnerID+"sid_request". The result is
// valid until the next call.
func (m *mac) sum(partnerID, timestamp string) []byte {
	m.msg = append(m.msg[:0], timestamp...)
	m.msg = append(m.msg, partnerID...)
	m.msg = append(m.msg, requestSuffix...)
	m.h.Reset()
	m.h.Write(m.msg)
	m.out = m.h.Sum(m.out[:0])
	return m.out
}

// decodeSignature decodes a signature without allocating.
func decodeSignature(signature string) (mac MAC, ok bool) {
	if len(signature) != signatureLen {
		return mac, false
	}
	var src [signatureLen]byte
	copy(src[:], signature)
	var dst [33]byte // base64 decodes 44 characters into up to 33 bytes
	n, err := strictBase64.Decode(dst[:], src[:])
	if err != nil || n != sha256.Size {
		return mac, false
	}
	copy(mac[:], dst[:n])
	return mac, true
}

// pooledMAC signs and verifies for one key with pooled HMAC state, so that
// neither allocates. The Keyring and the Transport both use it.
type pooledMAC struct {
	partnerID string
	pool      sync.Pool // of *mac
}

func newPooledMAC(k Key) *pooledMAC {
	p := &pooledMAC{partnerID: k.PartnerID}
	apiKey := k.APIKey
	p.pool.New = func() any { return newMAC(apiKey) }
	return p
}

// matches reports, in constant time, whether want is the MAC of timestamp.
func (p *pooledMAC) matches(timestamp string, want MAC) bool {
	m := p.pool.Get().(*mac)
	ok := hmac.Equal(m.sum(p.partnerID, timestamp), want[:])
	p.pool.Put(m)
	return ok
}

// verify is Verify for the pooled key.
func (p *pooledMAC) verify(timestamp, signature string) bool {
	want, ok := decodeSignature(signature)
	return ok && p.matches(timestamp, want)
}

// sign is Sign for the pooled key.
func (p *pooledMAC) sign(timestamp string) string {
	m := p.pool.Get().(*mac)
	var buf [signatureLen]byte
	base64.StdEncoding.Encode(buf[:], m.sum(p.partnerID, timestamp))
	p.pool.Put(m)
	return string(buf[:])
}
