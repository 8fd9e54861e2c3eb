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

// base64Values maps each byte of the standard base64 alphabet to its
// value, and every other byte to 0xff.
var base64Values = func() (t [256]byte) {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(alphabet); i++ {
		t[alphabet[i]] = byte(i)
	}
	return t
}()

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

// decodeSignature decodes a signature as base64.StdEncoding.Strict()
// would, without allocating: 43 characters of the standard alphabet and
// one "=", the last character's two padding bits zero, and no CR or LF
// (which encoding/base64 skips even when strict). Strict, so that
// each 32-byte MAC has exactly one accepted spelling: without it "...Q="
// and "...R=" would both verify, and a replay guard keyed on the signature
// text could be walked around. A signature is not secret: this need not
// take constant time.
func decodeSignature[T string | []byte](signature T) (mac MAC, ok bool) {
	if len(signature) != signatureLen || signature[signatureLen-1] != '=' {
		return mac, false
	}
	for q := 0; q < 10; q++ { // ten quantums of four characters: 30 bytes
		a, b := base64Values[signature[4*q]], base64Values[signature[4*q+1]]
		c, d := base64Values[signature[4*q+2]], base64Values[signature[4*q+3]]
		if (a|b|c|d)&0xc0 != 0 {
			return MAC{}, false
		}
		v := uint32(a)<<18 | uint32(b)<<12 | uint32(c)<<6 | uint32(d)
		mac[3*q], mac[3*q+1], mac[3*q+2] = byte(v>>16), byte(v>>8), byte(v)
	}
	a, b, c := base64Values[signature[40]], base64Values[signature[41]], base64Values[signature[42]]
	if (a|b|c)&0xc0 != 0 || c&0x03 != 0 {
		return MAC{}, false
	}
	v := uint32(a)<<10 | uint32(b)<<4 | uint32(c)>>2
	mac[30], mac[31] = byte(v>>8), byte(v)
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
