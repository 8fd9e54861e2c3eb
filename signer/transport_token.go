package signer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/smileguard/smileguard/internal/bodyread"
)

const (
	// tokenPath is where Smile ID's v3 API hands out tokens.
	tokenPath = "/v3/token"

	// tokenHeader carries the token on every other v3 call; apiKeyHeader
	// carries the API key to tokenPath, and nowhere else.
	tokenHeader  = "Smileid-Token"
	apiKeyHeader = "Smileid-Api-Key"

	// tokenRefreshMargin is how long before its exp a token is fetched
	// anew, as Smile ID's official SDKs do.
	tokenRefreshMargin = 60 * time.Second

	// maxTokenAnswerBytes bounds the token endpoint's answer read, and
	// maxTokenLen the token itself, which goes in a header.
	maxTokenAnswerBytes = 64 << 10
	maxTokenLen         = 8 << 10

	// maxTokenMessageLen bounds the part of Smile ID's message an error
	// repeats.
	maxTokenMessageLen = 200

	// maxDrainBytes is how much of a refused answer is read before it is
	// closed, so that its connection can be reused.
	maxDrainBytes = 4 << 10
)

// ErrToken means the Transport could not get a token for a /v3/ request:
// the token endpoint refused (see [TokenError]), answered without a usable
// token, or could not be reached; or Key cannot be sent to it (a
// PartnerID that is not the number Smile ID's v3 API wants, an APIKey
// that is not printable ASCII). The v3 request was not sent. The error never
// holds the API key or a token.
var ErrToken = errors.New("signer: cannot get a Smile ID token")

// A TokenError is the token endpoint's refusal: POST /v3/token answered
// with a status other than 2xx. It matches [ErrToken].
type TokenError struct {
	StatusCode int // the answer's HTTP status code

	// Message is Smile ID's "message" from the answer, with control
	// characters replaced by spaces and cut to 200 bytes; "" if it sent
	// none.
	Message string
}

// Error returns the status and, quoted, Smile ID's message.
func (e *TokenError) Error() string {
	text := fmt.Sprintf("signer: cannot get a Smile ID token: %s answered %d %s", tokenPath, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		text += fmt.Sprintf(": %q", e.Message)
	}
	return text
}

// Is reports whether target is [ErrToken].
func (e *TokenError) Is(target error) bool { return target == ErrToken }

// isV3 reports whether path is one of Smile ID's v3 endpoints, which take
// a token instead of a signature.
func isV3(path string) bool {
	return path == "/v3" || strings.HasPrefix(path, "/v3/")
}

// roundTripV3 sends req, bound for a /v3/ path of the state's host
// hosts[host], with a token.
func (t *Transport) roundTripV3(s *transportState, host int, req *http.Request) (*http.Response, error) {
	if req.URL.Path == tokenPath {
		return t.roundTripTokenRequest(s, req)
	}
	if s.v3err != nil {
		closeRequestBody(req)
		return nil, s.v3err
	}
	cache := s.tokens[host].forScheme(req.URL.Scheme)
	ctx := req.Context()
	token, err := cache.get(ctx, t, s, req.URL, "")
	if err == nil {
		err = t.wait(ctx)
	}
	if err != nil {
		closeRequestBody(req)
		return nil, err
	}
	resp, err := t.base().RoundTrip(withToken(req, token))
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return t.verify(s, req, resp, err, stamp{})
	}
	// The token was refused: it is not used again. A request that can be
	// sent again is, once, with a fresh one; another gets the 401.
	body, replayable := replayBody(req)
	if !replayable {
		cache.drop(token)
		return t.verify(s, req, resp, nil, stamp{})
	}
	discard(resp)
	token, err = cache.get(ctx, t, s, req.URL, token)
	if err == nil {
		err = t.wait(ctx)
	}
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, err
	}
	again := withToken(req, token)
	again.Body = body
	resp, err = t.base().RoundTrip(again)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		cache.drop(token) // refused too: not used again either
	}
	return t.verify(s, req, resp, err, stamp{})
}

// replayBody returns a new body for sending req again, if it can be:
// when it has none, or GetBody gives one.
func replayBody(req *http.Request) (io.ReadCloser, bool) {
	if req.Body == nil || req.Body == http.NoBody {
		return nil, true
	}
	if req.GetBody == nil {
		return nil, false
	}
	body, err := req.GetBody()
	return body, err == nil
}

// withToken returns the outgoing copy of req with token in its header.
func withToken(req *http.Request, token string) *http.Request {
	out := outgoing(req, 1)
	out.Header[tokenHeader] = []string{token} // allocation: the header's value
	return out
}

// roundTripTokenRequest sends the caller's own request for a token (to
// hand it to a mobile or web client, say) with the key's credentials.
func (t *Transport) roundTripTokenRequest(s *transportState, req *http.Request) (*http.Response, error) {
	if s.v3err != nil {
		closeRequestBody(req)
		return nil, s.v3err
	}
	if err := t.wait(req.Context()); err != nil {
		closeRequestBody(req)
		return nil, err
	}
	out := outgoing(req, 2)
	s.setCredentials(out.Header)
	resp, err := t.base().RoundTrip(out)
	return t.verify(s, req, resp, err, stamp{})
}

func (s *transportState) setCredentials(h http.Header) {
	h["Smileid-Partner-Id"] = []string{s.trimmedPartnerID}
	h[apiKeyHeader] = []string{s.key.APIKey}
}

// v3PartnerID reports whether id is what Smile ID's v3 API accepts as a
// partner id: digits without a leading zero.
func v3PartnerID(id string) bool {
	return isDigits(id) && id[0] != '0'
}

// discard reads a little of an answer that is not passed on and closes it.
func discard(resp *http.Response) {
	io.CopyN(io.Discard, resp.Body, maxDrainBytes)
	resp.Body.Close()
}

// tokenCaches holds the tokens of one Transport.Hosts entry: one per
// scheme, since http and https on one host and port are not one server.
type tokenCaches struct {
	https, http tokenCache
}

func (c *tokenCaches) forScheme(scheme string) *tokenCache {
	if scheme == "http" {
		return &c.http
	}
	return &c.https
}

// tokenCache keeps one host's token and makes sure one fetch of it runs at
// a time. The token is read without a lock; the lock guards the fetch.
type tokenCache struct {
	current atomic.Pointer[cachedToken] // nil: none worth using

	mu    sync.Mutex
	fetch *tokenFetch // the fetch in flight, if any
}

type cachedToken struct {
	value     string
	refreshAt time.Time // when to fetch anew: 60 s before its exp
}

// tokenFetch is one request to the token endpoint, whose outcome the
// requests that wait for it share.
type tokenFetch struct {
	done chan struct{} // closed once the fields below are set
	cachedToken
	reusable bool
	err      error
	// own: err is the fetching request's alone (its context ended, its
	// wait for the Limiter would outlast its deadline, or the fetch
	// panicked), so each waiter fetches for itself.
	own bool
}

// get returns a token to send to u's host. rejected, if not "", is a token
// Smile ID refused: it is dropped from the cache and not returned from it.
func (c *tokenCache) get(ctx context.Context, t *Transport, s *transportState, u *url.URL, rejected string) (string, error) {
	for {
		if tok, ok := c.usable(t.now(), rejected); ok {
			return tok, nil
		}
		c.mu.Lock()
		if tok, ok := c.usable(t.now(), rejected); ok {
			c.mu.Unlock()
			return tok, nil
		}
		c.current.Store(nil) // stale or rejected
		f := c.fetch
		if f == nil {
			f = &tokenFetch{done: make(chan struct{})}
			c.fetch = f
			c.mu.Unlock()
			c.run(ctx, t, s, u, f)
			return f.value, f.err
		}
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return "", fmt.Errorf("signer: waiting for a Smile ID token: %w", ctx.Err())
		}
		// A refusal is everyone's. A fetch cut short by its own
		// request, or a token for one request only, is not: this request
		// then fetches for itself.
		if f.err != nil && !f.own {
			return "", f.err
		}
	}
}

// run makes the fetch f for the requests that wait for it, and ends it
// however fetchToken ends: if Base or Now panics, the waiters fetch for
// themselves and the panic goes on up the caller's stack.
func (c *tokenCache) run(ctx context.Context, t *Transport, s *transportState, u *url.URL, f *tokenFetch) {
	completed := false
	defer func() {
		if !completed {
			f.err, f.own = errTokenFetchPanicked, true
		}
		c.mu.Lock()
		c.fetch = nil
		if f.err == nil && f.reusable {
			c.current.Store(&f.cachedToken)
		}
		c.mu.Unlock()
		close(f.done)
	}()
	if err := t.wait(ctx); err != nil {
		f.err, f.own = err, true
	} else {
		f.cachedToken, f.reusable, f.err = t.fetchToken(ctx, s, u)
		f.own = f.err != nil && ctx.Err() != nil
	}
	completed = true
}

// errTokenFetchPanicked is a panicking token fetch's error, which only its
// waiters can see, and do not keep.
var errTokenFetchPanicked = fmt.Errorf("%w: the token request panicked", ErrToken)

// usable returns the cached token if it is not rejected and not due for
// refreshing at now.
func (c *tokenCache) usable(now time.Time, rejected string) (string, bool) {
	tok := c.current.Load()
	if tok == nil || tok.value == rejected || !now.Before(tok.refreshAt) {
		return "", false
	}
	return tok.value, true
}

// drop forgets token if it is the one cached.
func (c *tokenCache) drop(token string) {
	if tok := c.current.Load(); tok != nil && tok.value == token {
		c.current.CompareAndSwap(tok, nil)
	}
}

// fetchToken asks u's host for a token. reusable is false for a token to
// be used once: one whose exp cannot be read, or is less than
// tokenRefreshMargin away.
func (t *Transport) fetchToken(ctx context.Context, s *transportState, u *url.URL) (tok cachedToken, reusable bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: tokenPath}).String(), nil)
	if err != nil {
		return tok, false, fmt.Errorf("%w: %w", ErrToken, err)
	}
	req.Header.Set("Accept", "application/json")
	s.setCredentials(req.Header)
	resp, err := t.base().RoundTrip(req)
	if err != nil {
		return tok, false, fmt.Errorf("%w: %w", ErrToken, err)
	}
	defer resp.Body.Close()
	answer, err := bodyread.Read(resp.Body, resp.ContentLength, maxTokenAnswerBytes)
	if err != nil {
		return tok, false, fmt.Errorf("%w: reading the answer of %s: %w", ErrToken, tokenPath, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return tok, false, &TokenError{StatusCode: resp.StatusCode, Message: tokenMessage(answer, s.key.APIKey)}
	}
	var doc struct {
		Token string `json:"token"`
	}
	if len(answer) > maxTokenAnswerBytes || json.Unmarshal(answer, &doc) != nil ||
		len(doc.Token) > maxTokenLen || !headerSafe(doc.Token) || strings.Contains(doc.Token, " ") {
		return tok, false, fmt.Errorf("%w: %s answered %d without a usable token", ErrToken, tokenPath, resp.StatusCode)
	}
	tok.value = doc.Token
	exp, ok := jwtExpiry(doc.Token)
	tok.refreshAt = exp.Add(-tokenRefreshMargin)
	return tok, ok && t.now().Before(tok.refreshAt), nil
}

// jwtExpiry reads the exp claim of a JWT's payload. The JWT is not
// verified: Smile ID verifies its own tokens, and the exp only says when
// to ask for a new one.
func jwtExpiry(token string) (time.Time, bool) {
	first := strings.IndexByte(token, '.')
	if first < 0 {
		return time.Time{}, false
	}
	payload, _, ok := strings.Cut(token[first+1:], ".")
	if !ok {
		return time.Time{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(payload, "="))
	if err != nil {
		return time.Time{}, false
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&claims) != nil || claims.Exp == "" {
		return time.Time{}, false
	}
	exp, err := claims.Exp.Float64()
	// NumericDate: seconds since 1970, fractions allowed. Beyond the year
	// 5000 it is not a date anyone meant.
	if err != nil || math.IsNaN(exp) || exp <= 0 || exp > 1e11 {
		return time.Time{}, false
	}
	sec, frac := math.Modf(exp)
	return time.Unix(int64(sec), int64(frac*1e9)), true
}

// tokenMessage returns Smile ID's "message" from a refusal, fit for an
// error: without apiKey should the server repeat it, with control and
// bidirectional formatting characters made spaces, and cut to
// maxTokenMessageLen bytes.
func tokenMessage(answer []byte, apiKey string) string {
	var doc struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &doc) != nil {
		return ""
	}
	msg := strings.ReplaceAll(strings.ToValidUTF8(doc.Message, "\uFFFD"), apiKey, redacted)
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, msg)
	msg = strings.TrimSpace(msg)
	if len(msg) > maxTokenMessageLen {
		cut := maxTokenMessageLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	return msg
}
