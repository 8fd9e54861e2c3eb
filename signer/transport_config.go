package signer

import (
	"fmt"
	"net/http"
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

// transportState is what a Transport derives from its fields, once, and
// then shares, read-only, with every request.
type transportState struct {
	err error // the fields are unusable; nothing else is set

	hosts  []hostPattern
	tokens []tokenCaches // per entry of hosts

	key              Key
	trimmedPartnerID string // Key.PartnerID without leading zeros, for v3
	v3err            error  // why Key cannot get a v3 token, if it cannot
	sourceSDK        string
	sourceSDKVersion string

	// The raw v1 body members that do not change from request to request.
	partnerIDMember        []byte
	sourceSDKMember        []byte
	sourceSDKVersionMember []byte

	macs *macPool // Key's HMAC state: signing does not allocate one
}

// configError is a Transport field that is unusable. It matches
// ErrInvalidTransport, and ErrInvalidKey when the field is Key's.
type configError struct {
	text string
	key  bool
}

func (e *configError) Error() string { return e.text }

func (e *configError) Unwrap() []error {
	if e.key {
		return []error{ErrInvalidTransport, ErrInvalidKey}
	}
	return []error{ErrInvalidTransport}
}

func configErrorf(format string, args ...any) error {
	return &configError{text: "signer: Transport." + fmt.Sprintf(format, args...)}
}

func newTransportState(t *Transport) *transportState {
	s, err := deriveState(t)
	if err != nil {
		return &transportState{err: err}
	}
	return s
}

// deriveState checks t's fields and derives what requests need from them.
// Its errors name the field, never a value of Key: any of its fields may
// hold a pasted secret.
func deriveState(t *Transport) (*transportState, error) {
	key := t.Key
	if p := key.problems(); len(p) > 0 {
		return nil, &configError{text: fmt.Sprintf("signer: Transport.Key.%s %s", p[0].field, p[0].reason), key: true}
	}
	// The partner id goes into headers, where net/http would refuse it
	// later and less clearly.
	if !headerSafe(key.PartnerID) {
		return nil, &configError{text: "signer: Transport.Key.PartnerID has a character other than printable ASCII", key: true}
	}

	s := &transportState{key: key, trimmedPartnerID: TrimPartnerID(key.PartnerID)}
	// Only v3 needs these; a v1 or v2 user's key is not refused for them.
	switch {
	case !v3PartnerID(s.trimmedPartnerID):
		s.v3err = fmt.Errorf("%w: Key.PartnerID is not a number, as Smile ID's v3 API wants it", ErrToken)
	case !headerSafe(key.APIKey):
		s.v3err = fmt.Errorf("%w: Key.APIKey has a character other than printable ASCII, which the smileid-api-key header cannot carry", ErrToken)
	}
	hosts := t.Hosts
	if len(hosts) == 0 {
		hosts = []string{key.Environment.Host()}
	}
	for i, entry := range hosts {
		p, reason := parseHostPattern(entry)
		if reason != "" {
			// Not quoted: a Hosts entry is configuration, but so was the
			// key someone pasted in the wrong place.
			return nil, configErrorf("Hosts[%d] %s", i, reason)
		}
		if env, smile := smileIDEnvironment(p.name); smile && env != key.Environment {
			return nil, configErrorf("Hosts[%d] is the %s Smile ID host, but Key.Environment is %s", i, env, key.Environment)
		}
		s.hosts = append(s.hosts, p)
	}
	s.tokens = make([]tokenCaches, len(s.hosts))

	s.sourceSDK = t.SourceSDK
	if s.sourceSDK == "" {
		s.sourceSDK = defaultSourceSDK
	}
	s.sourceSDKVersion = t.SourceSDKVersion
	if s.sourceSDKVersion == "" {
		s.sourceSDKVersion = moduleVersion()
	}
	if !headerSafe(s.sourceSDK) {
		return nil, configErrorf("SourceSDK has a character other than printable ASCII")
	}
	if !headerSafe(s.sourceSDKVersion) {
		return nil, configErrorf("SourceSDKVersion has a character other than printable ASCII")
	}

	s.partnerIDMember = jsonMember("partner_id", key.PartnerID)
	s.sourceSDKMember = jsonMember("source_sdk", s.sourceSDK)
	s.sourceSDKVersionMember = jsonMember("source_sdk_version", s.sourceSDKVersion)
	s.macs = newMACPool([]string{key.APIKey})
	return s, nil
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

// stamp is the timestamp and signature one request carries.
type stamp struct {
	timestamp, signature string
}

// stamp returns the timestamp for now, formatted as FormatTimestamp does,
// and its signature.
func (s *transportState) stamp(now time.Time) stamp {
	var buf [64 + signatureLen]byte
	b := appendTimestamp(buf[:0], now)
	n := len(b)
	b = s.macs.appendSignature(b, 0, s.key.PartnerID)
	both := string(b) // allocation: the timestamp and the signature, in one string
	return stamp{timestamp: both[:n], signature: both[n:]}
}

// setHeaders sets the five smileid-* headers in h, the outgoing request's
// own map, from which outgoing left out the caller's copies.
func (s *transportState) setHeaders(h http.Header, st stamp) {
	// allocation: one backing array for the five values, as Header.Clone does.
	values := []string{s.key.PartnerID, st.signature, st.timestamp, s.sourceSDK, s.sourceSDKVersion}
	for i, name := range smileIDHeaders {
		h[name] = values[i : i+1 : i+1]
	}
}
