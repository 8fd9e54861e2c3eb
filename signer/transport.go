package signer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Transport is an [http.RoundTripper] that authenticates the requests bound
// for Smile ID with Key, as each path wants it, and passes every other
// request to Base untouched. It is what a business puts in its
// [http.Client] to call Smile ID:
//
//	client := &http.Client{Transport: &signer.Transport{Key: key}}
//
// A request is Smile ID's when its URL's host is one of Hosts, by default
// the host of Key.Environment; [Transport.RoundTrip] says what each path
// gets. A request to either environment's Smile ID host that the Transport
// does not authenticate is refused with [ErrWrongEnvironment]: a sandbox
// key never calls production, and nothing goes to Smile ID unsigned.
//
// Like [http.Transport], a Transport is configured before its first use
// and not changed after: set its fields, call [Transport.Validate] at
// start-up if you want the mistakes early, then only use it. It derives its
// configuration once; a bad one fails Validate and every RoundTrip, and
// nothing is sent. The zero value is not usable: Key must be set. A
// Transport is safe for concurrent use by multiple goroutines. It prints
// its Key redacted, by pointer or by value; in an unexported field of
// another struct it is subject to what [Key] says of printing.
type Transport struct {
	// Base sends the requests. Nil means [http.DefaultTransport].
	Base http.RoundTripper

	// Key authenticates the requests. Its APIKey is sent to /v3/token
	// only; it is never put in another request, an error or a log.
	Key Key

	// Hosts are the hosts to authenticate for, as "host" or "host:port";
	// an IPv6 literal goes in brackets ("[::1]:8443"). Names are compared
	// case-insensitively in ASCII and a single trailing dot is ignored,
	// as DNS does. "host" matches the URL's host with no port or with the
	// scheme's default port; "host:port" matches that port. Nil or empty
	// means the Smile ID host of Key.Environment. The other environment's
	// Smile ID host is refused.
	Hosts []string

	// Limiter, if not nil, is waited on (with the request's context)
	// before each request the Transport sends to one of Hosts, token
	// requests and resent requests included, to stay under Smile ID's
	// rate limits. Requests to other hosts do not wait.
	Limiter *rate.Limiter

	// Now returns the time to stamp requests with and to judge a token's
	// expiry by. Nil means [time.Now].
	Now func() time.Time

	// SourceSDK is sent as source_sdk. Empty means "smileguard-go".
	SourceSDK string

	// SourceSDKVersion is sent as source_sdk_version. Empty means this
	// module's version as recorded in the binary's build information, or
	// "devel" when there is none (a test, or a build from a work tree).
	SourceSDKVersion string

	// VerifyResponses makes RoundTrip verify the signature of every
	// answer from one of Hosts that carries one: in its Response-Signature
	// and Response-Timestamp headers, as Smile ID's v3 sync endpoints send
	// them, or in the top-level "signature" and "timestamp" members of a
	// JSON object body, as job_status sends them. See
	// [ErrInvalidResponseSignature].
	VerifyResponses bool

	// Logger, if not nil, gets one Warn record (see [LogKeyWarnings]) when
	// the Transport derives its configuration with a Key that
	// [Key.Review] reports under [KeyPolicy]: expired, expiring soon, or
	// older than Smile ID's 90 days. Nil means no logging.
	Logger *slog.Logger

	// KeyPolicy says when Key is reported to Logger. The zero value is
	// Smile ID's advice (see [KeyPolicy]).
	KeyPolicy KeyPolicy

	// state is what the Transport derives from the fields above, once.
	// An atomic.Value rather than a sync.Once, so that a Transport printed
	// by value copies no lock; and sealed in a func, which fmt prints as
	// an address whatever the verb, where a pointer printed with %s would
	// be followed (fmt only calls the methods of exported fields).
	state atomic.Value // of sealedState
}

// sealedState holds a Transport's derived state where fmt cannot reach
// it: the state holds the API key.
type sealedState func() *transportState

var (
	// ErrInvalidTransport means a Transport's fields are unusable. The
	// error names the field at fault (and wraps [ErrInvalidKey] for Key),
	// never a value of Key.
	ErrInvalidTransport = errors.New("signer: invalid Transport")

	// ErrInsecureRequest means a request to one of a Transport's hosts
	// was not https, or was plain http to an address other than loopback.
	// Nothing was sent.
	ErrInsecureRequest = errors.New("signer: refusing to sign a request that is not https")

	// ErrWrongEnvironment means a request went to a Smile ID host
	// (testapi.smileidentity.com or api.smileidentity.com, on any port)
	// that the Transport does not authenticate for: the other
	// environment's, or one left out of Hosts. Nothing was sent: Smile ID
	// would refuse it, and a key must never call the other environment.
	ErrWrongEnvironment = errors.New("signer: refusing an unsigned request to a Smile ID host")

	// ErrOpaqueURL means a request to one of a Transport's hosts had a URL
	// with Opaque set, which net/http sends instead of Path: the path the
	// Transport authenticates by would not be the path sent. Nothing was
	// sent. Set Path (url.Parse does) and leave Opaque empty.
	ErrOpaqueURL = errors.New("signer: refusing a request whose URL sets Opaque")
)

// RoundTrip implements [http.RoundTripper]. A request to one of the
// Transport's hosts is authenticated by its path:
//
//   - /v1/ paths carry the signature in their JSON object body (see
//     [ErrNotJSONObject] and [ErrBodyTooLarge] for what cannot be signed):
//     "signature" and "timestamp" are set, replacing any present;
//     "partner_id" is added unless it or "smile_client_id" is present;
//     "source_sdk" and "source_sdk_version" are added when absent. Every
//     other member keeps its bytes and its place, Content-Length and
//     GetBody follow the new body, and Content-Type is set to
//     application/json if the caller set none.
//   - /v3/ paths carry a SmileID-Token header and no signature. The token
//     comes from POST /v3/token on the request's own scheme, host and
//     port, and is kept until 60 seconds before its exp claim; a token
//     whose exp cannot be read is used once. One token request runs at a
//     time; others wait for it within their own context. A 401 answer
//     drops the token, and a request that can be sent again (no body, or
//     GetBody set) is sent once more with a fresh one. /v3/token itself
//     gets the smileid-partner-id and smileid-api-key headers. See
//     [ErrToken].
//   - Every other path gets the five smileid-* headers (partner id,
//     request signature, timestamp, source SDK and its version); its body
//     is neither read nor changed.
//
// The headers the Transport sets, however the caller spelt them, are
// removed from what the caller set, so each goes out once, and only where
// its path wants it. Each call signs with a fresh timestamp, so a retry or
// a redirect to the same host (which [http.Client] sends through RoundTrip
// again) is signed anew. The request passed in is never modified, and its
// body is closed on every path, as the RoundTripper contract requires.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.load()
	if s.err != nil {
		closeRequestBody(req)
		return nil, s.err
	}
	if req.URL == nil {
		return t.base().RoundTrip(req)
	}
	host, ok := s.match(req.URL)
	if !ok {
		if env, smile := smileIDEnvironment(req.URL.Hostname()); smile {
			closeRequestBody(req)
			return nil, s.wrongHost(env, req.URL)
		}
		return t.base().RoundTrip(req)
	}
	if err := checkScheme(req.URL); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	if req.URL.Opaque != "" {
		closeRequestBody(req)
		return nil, fmt.Errorf("%w (to %s)", ErrOpaqueURL, req.URL.Host)
	}
	switch path := req.URL.Path; {
	case isV1(path):
		return t.roundTripV1(s, req)
	case isV3(path):
		return t.roundTripV3(s, host, req)
	}
	if err := t.wait(req.Context()); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	st := s.stamp(t.now())
	out := outgoing(req, len(smileIDHeaders))
	s.setHeaders(out.Header, st)
	resp, err := t.base().RoundTrip(out)
	return t.verify(s, req, resp, err, st)
}

// Validate reports whether the Transport's fields are usable, deriving its
// configuration as the first RoundTrip does; after it, as after the first
// RoundTrip, the fields must not change. A nil error means no RoundTrip
// will fail for configuration. The error names the field at fault, starts
// with "signer: " and wraps [ErrInvalidTransport].
func (t *Transport) Validate() error {
	return t.load().err
}

// Format implements [fmt.Formatter]: every verb prints the Transport's Key
// (redacted, as [Key.Format] prints it), Hosts, SourceSDK,
// SourceSDKVersion and VerifyResponses, and nothing of what it derives.
func (t *Transport) Format(f fmt.State, _ rune) {
	if t == nil {
		io.WriteString(f, "<nil>")
		return
	}
	fmt.Fprintf(f, "&signer.Transport{Key: %v, Hosts: %q, SourceSDK: %q, SourceSDKVersion: %q, VerifyResponses: %t}",
		t.Key, t.Hosts, t.SourceSDK, t.SourceSDKVersion, t.VerifyResponses)
}

// load returns the configuration derived from t's fields, deriving it on
// first use. Concurrent first calls may each derive it; they derive the
// same thing, one is kept, and only that one reviews the key.
func (t *Transport) load() *transportState {
	if sealed, ok := t.state.Load().(sealedState); ok {
		return sealed()
	}
	s := newTransportState(t)
	if !t.state.CompareAndSwap(nil, sealedState(func() *transportState { return s })) {
		return t.state.Load().(sealedState)()
	}
	if s.err == nil && t.Logger != nil {
		if w, ok := t.Key.Review(t.now(), t.KeyPolicy); ok {
			LogKeyWarnings(context.Background(), t.Logger, []KeyWarning{w})
		}
	}
	return s
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

// wait waits on the Limiter, if there is one.
func (t *Transport) wait(ctx context.Context) error {
	if t.Limiter == nil {
		return nil
	}
	if err := t.Limiter.Wait(ctx); err != nil {
		return fmt.Errorf("signer: waiting for the rate limiter: %w", err)
	}
	return nil
}

// verify passes on the answer to an authenticated request, verified if
// VerifyResponses is set. sent is what the request carried, if it was
// signed.
func (t *Transport) verify(s *transportState, req *http.Request, resp *http.Response, err error, sent stamp) (*http.Response, error) {
	if resp != nil {
		// The caller's request, not the copy that went out: its headers
		// held the signature, the token or the API key, which a caller
		// logging resp.Request would write out.
		resp.Request = req
	}
	if err != nil || !t.VerifyResponses {
		return resp, err
	}
	return s.verifyResponse(req, resp, sent)
}

// outgoing returns the request to send in req's place: a shallow copy with
// a header map of its own, holding req's headers but the ones the
// Transport sets, and room for extra more. Nothing of req is modified; the
// header values' slices are shared, and the Transport never writes to
// them.
func outgoing(req *http.Request, extra int) *http.Request {
	out := new(http.Request) // allocation: the request sent
	*out = *req
	out.Header = make(http.Header, len(req.Header)+extra) // allocations: the map and its first group
	for name, values := range req.Header {
		if !transportHeader(name) {
			out.Header[name] = values
		}
	}
	return out
}

// transportHeader reports whether name, in any spelling, is a header the
// Transport sets on some path: the five v2 headers, smileid-api-key and
// SmileID-Token.
func transportHeader(name string) bool {
	const prefix = "smileid-"
	if len(name) <= len(prefix) || !asciiEqualFold(name[:len(prefix)], prefix) {
		return false
	}
	for _, ours := range smileIDHeaders {
		if asciiEqualFold(name, ours) {
			return true
		}
	}
	return asciiEqualFold(name, apiKeyHeader) || asciiEqualFold(name, tokenHeader)
}

// closeRequestBody closes the body of a request that will not be sent, as a
// RoundTripper must.
func closeRequestBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
