package signer

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// defaultSourceSDK is sent as source_sdk when Transport.SourceSDK is empty.
const defaultSourceSDK = "smileguard-go"

// The v2 headers, in canonical form. Smile ID's mobile SDKs spell them
// "SmileID-Partner-ID" and so on; HTTP header names are case-insensitive.
var smileIDHeaders = [...]string{
	"Smileid-Partner-Id",
	"Smileid-Request-Signature",
	"Smileid-Timestamp",
	"Smileid-Source-Sdk",
	"Smileid-Source-Sdk-Version",
}

// transportState is what a Transport derives from its fields, checked once
// and then shared, read-only, by every request.
type transportState struct {
	// The fields it was derived from, to notice when they change.
	key                   sealedKey
	hostsField            []string
	sourceSDKField        string
	sourceSDKVersionField string

	err error // the fields are unusable; nothing else is set

	hosts            []hostPattern
	sourceSDK        string
	sourceSDKVersion string

	// The raw v1 body members that do not change from request to request.
	partnerIDMember        []byte
	sourceSDKMember        []byte
	sourceSDKVersionMember []byte

	partnerID string
	mac       *pooledMAC // signing does not allocate an HMAC
}

// A sealedKey holds a Key where fmt cannot reach its APIKey. A Key prints
// itself redacted, but only where fmt can call its methods: in an
// unexported field, or behind a pointer printed with a verb other than %v
// (as in a Transport printed by value with %s), fmt walks the struct itself
// and would print the APIKey. A func prints as its address in every verb.
type sealedKey func() Key

func seal(k Key) sealedKey { return func() Key { return k } }

// load returns the state for t's current fields, deriving it again if they
// changed since it was cached. Concurrent first calls may each derive it;
// they derive the same thing.
func (t *Transport) load() *transportState {
	if s, ok := t.state.Load().(*transportState); ok && s.derivedFrom(t) {
		return s
	}
	s := newTransportState(t)
	t.state.Store(s)
	if s.err == nil {
		t.reviewKey(s.key)
	}
	return s
}

func (s *transportState) derivedFrom(t *Transport) bool {
	if s.key() != t.Key || s.sourceSDKField != t.SourceSDK ||
		s.sourceSDKVersionField != t.SourceSDKVersion || len(s.hostsField) != len(t.Hosts) {
		return false
	}
	for i, h := range t.Hosts {
		if s.hostsField[i] != h {
			return false
		}
	}
	return true
}

func newTransportState(t *Transport) *transportState {
	s := &transportState{
		key:                   seal(t.Key),
		hostsField:            append([]string(nil), t.Hosts...), // a copy: the caller's array may change
		sourceSDKField:        t.SourceSDK,
		sourceSDKVersionField: t.SourceSDKVersion,
	}
	if err := s.init(); err != nil {
		return &transportState{key: s.key, hostsField: s.hostsField, sourceSDKField: s.sourceSDKField,
			sourceSDKVersionField: s.sourceSDKVersionField, err: err}
	}
	return s
}

func (s *transportState) init() error {
	key := s.key()
	if err := key.validate(); err != nil {
		return fmt.Errorf("%w: Key: %w", ErrInvalidTransport, err)
	}
	// The partner id goes into a header on v2 paths, where net/http would
	// refuse it later and less clearly.
	if !headerSafe(key.PartnerID) {
		return fmt.Errorf("%w: Key.PartnerID has a character other than printable ASCII", ErrInvalidTransport)
	}

	hosts := s.hostsField
	if len(hosts) == 0 {
		hosts = []string{key.Environment.Host()}
	}
	for i, entry := range hosts {
		p, reason := parseHostPattern(entry)
		if reason != "" {
			// The entry is configuration, not a secret, unless an API key
			// was put there by mistake.
			quoted := strconv.Quote(entry)
			if strings.Contains(entry, key.APIKey) {
				quoted = redacted
			}
			return fmt.Errorf("%w: Hosts[%d] %s %s", ErrInvalidTransport, i, quoted, reason)
		}
		s.hosts = append(s.hosts, p)
	}

	s.sourceSDK = s.sourceSDKField
	if s.sourceSDK == "" {
		s.sourceSDK = defaultSourceSDK
	}
	s.sourceSDKVersion = s.sourceSDKVersionField
	if s.sourceSDKVersion == "" {
		s.sourceSDKVersion = moduleVersion()
	}
	if !headerSafe(s.sourceSDK) {
		return fmt.Errorf("%w: SourceSDK has a character other than printable ASCII", ErrInvalidTransport)
	}
	if !headerSafe(s.sourceSDKVersion) {
		return fmt.Errorf("%w: SourceSDKVersion has a character other than printable ASCII", ErrInvalidTransport)
	}

	s.partnerID = key.PartnerID
	s.partnerIDMember = jsonMember("partner_id", key.PartnerID)
	s.sourceSDKMember = jsonMember("source_sdk", s.sourceSDK)
	s.sourceSDKVersionMember = jsonMember("source_sdk_version", s.sourceSDKVersion)
	s.mac = newPooledMAC(key)
	return nil
}

// headerSafe reports whether v is non-empty printable ASCII, which every
// HTTP header value accepts as is.
func headerSafe(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// stamp returns the timestamp for now, formatted as FormatTimestamp does,
// and its signature.
func (s *transportState) stamp(now time.Time) (timestamp, signature string) {
	var buf [len(TimestampLayout)]byte
	timestamp = string(appendTimestamp(buf[:0], now))
	return timestamp, s.mac.sign(timestamp)
}

// appendTimestamp appends FormatTimestamp(t) to dst without time's layout
// interpreter, which costs as much as the HMAC and allocates. Years outside
// 0000-9999 take FormatTimestamp's own path.
func appendTimestamp(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, TimestampLayout)
	}
	hour, minute, second := t.Clock()
	dst = appendDigits(dst, year, 4)
	dst = appendDigits(append(dst, '-'), int(month), 2)
	dst = appendDigits(append(dst, '-'), day, 2)
	dst = appendDigits(append(dst, 'T'), hour, 2)
	dst = appendDigits(append(dst, ':'), minute, 2)
	dst = appendDigits(append(dst, ':'), second, 2)
	dst = appendDigits(append(dst, '.'), t.Nanosecond()/int(time.Millisecond), 3)
	return append(dst, 'Z')
}

// appendDigits appends n, which is not negative, as exactly width digits.
func appendDigits(dst []byte, n, width int) []byte {
	var buf [4]byte
	for i := width - 1; i >= 0; i-- {
		buf[i] = byte('0' + n%10)
		n /= 10
	}
	return append(dst, buf[:width]...)
}

// setHeaders sets the five smileid-* headers in h, a clone the request
// owns. Differently spelled copies ("SmileID-Partner-ID", set straight into
// the map) are removed first, so that exactly one of each is sent.
func (s *transportState) setHeaders(h http.Header, timestamp, signature string) {
	for name := range h {
		if len(name) > len("smileid-") && asciiEqualFold(name[:len("smileid-")], "smileid-") {
			for _, ours := range smileIDHeaders {
				if name != ours && asciiEqualFold(name, ours) {
					delete(h, name)
				}
			}
		}
	}
	// One backing array for the five values, as Header.Clone does.
	values := []string{s.partnerID, signature, timestamp, s.sourceSDK, s.sourceSDKVersion}
	for i, name := range smileIDHeaders {
		h[name] = values[i : i+1 : i+1]
	}
}
