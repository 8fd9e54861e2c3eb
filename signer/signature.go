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
	m := newMACStates([]string{apiKey})
	return base64.StdEncoding.EncodeToString(m.sum(0, partnerID, timestamp))
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
	m := newMACStates([]string{apiKey})
	return hmac.Equal(m.sum(0, partnerID, timestamp), want[:])
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

// macStates holds the precomputed HMAC state of each of a set of API keys,
// and the buffers to use them with. hmac's Reset restores a key's
// precomputed pads, so a macStates signs without allocating. It is not safe
// for concurrent use: a macPool hands out one per caller.
type macStates struct {
	hashes []hash.Hash // one per API key, in the set's order
	// The messages of the call in progress: the last two partner ids
	// seen, so that a keyring trying each key with and without leading
	// zeros in its partner id builds each message once.
	msgs [2]message
	next int // the slot the next new message goes in
	out  []byte
}

// message is timestamp + partnerID + "sid_request", for one call's
// timestamp.
type message struct {
	b       []byte
	partner string
	built   bool
}

// maxPooledMessage bounds the message buffer a pool keeps: a caller that
// verifies a huge timestamp does not leave every pooled state that large.
const maxPooledMessage = 1 << 10

func newMACStates(apiKeys []string) *macStates {
	m := &macStates{hashes: make([]hash.Hash, len(apiKeys)), out: make([]byte, 0, sha256.Size)}
	for i, k := range apiKeys {
		m.hashes[i] = hmac.New(sha256.New, []byte(k))
	}
	return m
}

// sum returns the MAC under key i of timestamp+partnerID+"sid_request".
// Between a macPool.get and its put the timestamp must not change: the
// messages of the last two partner ids are built once and reused, whatever
// the key. The result is valid until the next call.
func (m *macStates) sum(i int, partnerID, timestamp string) []byte {
	msg := &m.msgs[0]
	switch {
	case msg.built && msg.partner == partnerID:
	case m.msgs[1].built && m.msgs[1].partner == partnerID:
		msg = &m.msgs[1]
	default:
		msg = &m.msgs[m.next]
		m.next ^= 1
		msg.b = append(msg.b[:0], timestamp...)
		msg.b = append(msg.b, partnerID...)
		msg.b = append(msg.b, requestSuffix...)
		msg.partner, msg.built = partnerID, true
	}
	return m.sumMessage(i, msg.b)
}

// sumMessage returns the MAC of msg under key i, valid until the next call.
func (m *macStates) sumMessage(i int, msg []byte) []byte {
	h := m.hashes[i]
	h.Reset()
	h.Write(msg)
	m.out = h.Sum(m.out[:0])
	return m.out
}

// macPool pools the macStates of one set of API keys, so that checking a
// signature against all of them costs one pool Get, not one per key. The
// Keyring keeps one per snapshot of its keys, the Transport one for its
// Key.
type macPool struct {
	pool sync.Pool // of *macStates
}

func newMACPool(apiKeys []string) *macPool {
	p := new(macPool)
	p.pool.New = func() any { return newMACStates(apiKeys) }
	return p
}

// get returns states for a new call: the message it builds is for the
// timestamp given to its sum calls until put.
func (p *macPool) get() *macStates {
	m := p.pool.Get().(*macStates)
	for i := range m.msgs {
		m.msgs[i].built, m.msgs[i].partner = false, ""
	}
	m.next = 0
	return m
}

func (p *macPool) put(m *macStates) {
	for i := range m.msgs {
		if cap(m.msgs[i].b) > maxPooledMessage {
			m.msgs[i].b = nil
		}
	}
	p.pool.Put(m)
}

// matches reports, in constant time, whether want is the MAC under key i
// of timestamp and partnerID.
func (p *macPool) matches(i int, partnerID, timestamp string, want MAC) bool {
	m := p.get()
	ok := hmac.Equal(m.sum(i, partnerID, timestamp), want[:])
	p.put(m)
	return ok
}

// appendSignature appends to dst, which holds a timestamp, the signature
// under key i of that timestamp and partnerID.
func (p *macPool) appendSignature(dst []byte, i int, partnerID string) []byte {
	m := p.get()
	msg := &m.msgs[0]
	msg.b = append(append(append(msg.b[:0], dst...), partnerID...), requestSuffix...)
	var buf [signatureLen]byte
	base64.StdEncoding.Encode(buf[:], m.sumMessage(i, msg.b))
	p.put(m)
	return append(dst, buf[:]...)
}
