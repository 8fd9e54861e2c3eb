package signer

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Transport is an http.RoundTripper that signs the requests bound for Smile
// ID with Key and passes every other request to Base untouched. It is what a
// business puts in its http.Client to call Smile ID:
//
//	client := &http.Client{Transport: &signer.Transport{Key: key}}
//
// A request is signed when its URL's host is one of Hosts (by default the
// Smile ID host of Key.Environment, so a sandbox key never goes to
// production) and its scheme is https. Plain http is allowed only to
// loopback addresses, for tests; a request to a signed host over plain http
// elsewhere, or over any other scheme, is an error and nothing is sent.
//
// Paths under /v1/ carry the signature in their JSON object body:
// "signature" and "timestamp" are set, replacing any present; "partner_id"
// is added unless "partner_id" or "smile_client_id" is present (a present
// one is kept as is: the signature is always Key.PartnerID's);
// "source_sdk" and "source_sdk_version" are added when absent. Every other
// member keeps its bytes and its place. Content-Length and GetBody follow
// the new body, and Content-Type is set to application/json if the caller
// set none. A /v1/ body that is not a JSON object (a GET without a body,
// for one) is an error wrapping ErrNotJSONObject, and one over
// MaxSignedBodyBytes an error wrapping ErrBodyTooLarge. Every other path
// gets the five smileid-* headers, replacing any the caller set, and its
// body is neither read nor changed.
//
// Each call of RoundTrip signs with a fresh timestamp, so a retry or a
// redirect to the same host (which http.Client sends through RoundTrip
// again) is signed anew, and a redirect to another host is not signed.
// The request passed in is never modified; the one sent is a clone.
//
// The zero value is not usable: Key must be set. Transport checks its
// fields on first use, not at construction, and fails closed: with an
// invalid Key, Hosts entry, SourceSDK or SourceSDKVersion every request,
// signed or not, returns an error wrapping ErrInvalidTransport and nothing
// is sent. Set the fields before first use and do not change them while
// requests are in flight; a change made between requests applies from the
// next one. A Transport is safe for concurrent use by multiple goroutines.
type Transport struct {
	// Base sends the requests. Nil means http.DefaultTransport.
	Base http.RoundTripper

	// Key signs the requests. Its APIKey is never put in a header, an
	// error or a log; only the signature made with it is sent.
	Key Key

	// Hosts are the hosts to sign for, as "host" or "host:port"; an IPv6
	// literal goes in brackets ("[::1]:8443"). Names are compared
	// case-insensitively in ASCII and a single trailing dot is ignored,
	// as DNS does. "host" matches the URL's host with no port or with the
	// scheme's default port (443 for https); "host:port" matches that
	// port. Nil or empty means the Smile ID host of Key.Environment.
	Hosts []string

	// Limiter, if not nil, is waited on (with the request's context)
	// before each signed request is sent, to stay under Smile ID's rate
	// limits. Requests to other hosts do not wait.
	Limiter *rate.Limiter

	// Now returns the time to stamp requests with. Nil means time.Now.
	Now func() time.Time

	// SourceSDK is sent as source_sdk. Empty means "smileguard-go".
	SourceSDK string

	// SourceSDKVersion is sent as source_sdk_version. Empty means this
	// module's version as recorded in the binary's build information, or
	// "devel" when there is none (a test, or a build from a work tree).
	SourceSDKVersion string

	// VerifyResponses makes RoundTrip verify the top-level "signature" and
	// "timestamp" of JSON object responses from signed hosts, as Smile ID
	// sends them with job_status. A response that does not verify, or that
	// cannot be verified (compressed, malformed, over
	// MaxVerifiedResponseBytes), is closed and RoundTrip returns an error
	// wrapping ErrInvalidResponseSignature; one whose body cannot be read
	// returns the read's error. Responses that carry neither member pass
	// unchanged. The timestamp's freshness is not checked.
	VerifyResponses bool

	// Logger, if not nil, gets one Warn record (see LogKeyWarnings) when
	// the Transport first signs with a Key that Key.Review reports under
	// KeyPolicy: expired, expiring soon, or older than Smile ID's 90 days.
	// Nil means no logging.
	Logger *slog.Logger

	// KeyPolicy says when Key is reported to Logger. The zero value is
	// Smile ID's advice (see KeyPolicy).
	KeyPolicy KeyPolicy

	// reviewed is the last Key reported on, so that concurrent first
	// requests log it once.
	reviewed atomic.Value // of sealedKey

	// state caches what is derived from the fields above. It is checked
	// against them on every request, so a Transport copied or changed
	// between requests never signs with stale state.
	state atomic.Value // of *transportState
}

var (
	// ErrInvalidTransport means a Transport's fields are unusable. The
	// error names the field at fault (and wraps ErrInvalidKey for Key),
	// never the API key.
	ErrInvalidTransport = errors.New("signer: invalid Transport")

	// ErrInsecureRequest means a request to a signed host was not https,
	// or plain http to an address other than loopback. Nothing was sent.
	ErrInsecureRequest = errors.New("signer: refusing to sign a request that is not https")

	// ErrInvalidResponseSignature means a response from a signed host did
	// not verify, or could not be verified, while VerifyResponses was set.
	// The response body was closed.
	ErrInvalidResponseSignature = errors.New("signer: invalid response signature")
)

// RoundTrip implements http.RoundTripper. It signs req if it is bound for
// one of the Transport's hosts, sends it with Base, and verifies the
// response if VerifyResponses is set. req is not modified, and its body is
// closed on every path, as the http.RoundTripper contract requires.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.load()
	if s.err != nil {
		closeRequestBody(req)
		return nil, s.err
	}
	if req.URL == nil || !s.signs(req.URL) {
		return t.base().RoundTrip(req)
	}
	if err := checkScheme(req.URL); err != nil {
		closeRequestBody(req)
		return nil, err
	}

	// The v1 body is read and checked before waiting on the limiter, so
	// that a request that cannot be sent does not spend a token; the
	// timestamp is taken after, so that waiting does not age it.
	var body []byte
	var plan *bodyPlan
	v1 := isV1(req.URL.Path)
	if v1 {
		var err error
		if body, err = readRequestBody(req); err != nil {
			return nil, err
		}
		if plan, err = planBody(body); err != nil {
			return nil, err
		}
	}
	if t.Limiter != nil {
		if err := t.Limiter.Wait(req.Context()); err != nil {
			if !v1 {
				closeRequestBody(req)
			}
			return nil, fmt.Errorf("signer: waiting for the rate limiter: %w", err)
		}
	}

	timestamp, signature := s.stamp(t.now())
	out := req.Clone(req.Context())
	if out.Header == nil {
		out.Header = make(http.Header, len(smileIDHeaders))
	}
	if v1 {
		setBody(out, plan.sign(body, s, timestamp, signature))
	} else {
		s.setHeaders(out.Header, timestamp, signature)
	}

	resp, err := t.base().RoundTrip(out)
	if err != nil || !t.VerifyResponses {
		return resp, err
	}
	return s.verifyResponse(req, resp)
}

// Format implements fmt.Formatter: every verb prints the Transport's Key
// (with its APIKey redacted, as Key prints itself), Hosts, SourceSDK,
// SourceSDKVersion and VerifyResponses, and nothing of the state it derives
// on first use. A Transport printed by value does not reach Format; the
// key in its derived state is sealed (see sealedKey), so fmt prints no
// APIKey then either.
func (t *Transport) Format(f fmt.State, _ rune) {
	if t == nil {
		io.WriteString(f, "<nil>")
		return
	}
	fmt.Fprintf(f, "&signer.Transport{Key: %v, Hosts: %q, SourceSDK: %q, SourceSDKVersion: %q, VerifyResponses: %t}",
		t.Key, t.Hosts, t.SourceSDK, t.SourceSDKVersion, t.VerifyResponses)
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// closeRequestBody closes the body of a request that will not be sent, as a
// RoundTripper must.
func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
