package load

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/callbacks"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

// Sizes of the bodies: most callbacks are about 2 KB; one valid callback in
// largeEvery carries a photo and weighs what Smile ID asks receivers to
// accept; the oversized ones pass the receiver's limit.
const (
	smallBody     = 2 << 10
	largeBody     = 1536 << 10
	largeEvery    = 100
	oversizedBody = middleware.DefaultMaxBodyBytes + 1<<10
)

// traffic is what the clients share.
type traffic struct {
	url, addr string
	proxy     *http.Client // connects from the trusted proxy's address
	untrusted *http.Client // connects from an address nobody trusts

	// signedAt is the timestamp of the next genuine callback: each one
	// gets its own millisecond, because two callbacks signed with one key
	// in the same millisecond carry the same signature and timestamp, and
	// the guard rightly takes the second for a replay.
	signedAt atomic.Int64

	requests  atomic.Int64 // started, against maxRequests
	validLeft atomic.Int64 // new deliveries the replay store may still take
	delivered deliveredRing
	oversized []byte // one signed body over the limit, sent again and again
}

func newTraffic(rr *runningReceiver, start time.Time) *traffic {
	tr := &traffic{
		url:       rr.url,
		addr:      rr.addr,
		proxy:     clientFrom(proxyAddr),
		untrusted: clientFrom(untrustedAddr),
		oversized: mustSign(signertest.SignCallback(productionKey, callbacks.Body("oversized", oversizedBody), start)),
	}
	// Three minutes back leaves room for 150,000 callbacks a millisecond
	// apart, all inside the receiver's 5 minute tolerance to the end.
	tr.signedAt.Store(start.Add(-3 * time.Minute).UnixMilli())
	tr.validLeft.Store(maxValid)
	return tr
}

// source returns a receiver's key of a random environment and a Smile ID
// callback address of that environment.
func source(rng *rand.Rand) (signer.Key, string) {
	key, set := productionKey, allowlist.SmileIDProduction
	if rng.IntN(2) == 0 {
		key, set = sandboxKey, allowlist.SmileIDSandbox
	}
	return key, set.Prefixes[rng.IntN(len(set.Prefixes))].Addr().String()
}

// genuine returns a new callback for job of about size bytes from a random
// environment, signed at its own timestamp.
func (tr *traffic) genuine(rng *rand.Rand, job string, size int) delivery {
	key, from := source(rng)
	ts := signer.FormatTimestamp(time.UnixMilli(tr.signedAt.Add(1)))
	body := mustSign(signertest.SignCallbackWithTimestamp(key, callbacks.Body(job, size), ts))
	return delivery{key: key, timestamp: ts, body: body, from: from}
}

// mustSign returns body; callbacks.Body always makes a JSON object, so
// signing it never fails.
func mustSign(body []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return body
}

// A delivery is a signed callback and the Smile ID address it comes from.
type delivery struct {
	key       signer.Key
	timestamp string
	body      []byte
	from      string
}

// deliveredRing keeps the last callbacks the receiver answered 200, for
// the retries and the tampered replays.
type deliveredRing struct {
	mu    sync.Mutex
	items [4096]delivery
	n     int
}

func (r *deliveredRing) add(d delivery) {
	r.mu.Lock()
	r.items[r.n%len(r.items)] = d
	r.n++
	r.mu.Unlock()
}

func (r *deliveredRing) pick(rng *rand.Rand) (delivery, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == 0 {
		return delivery{}, false
	}
	return r.items[rng.IntN(min(r.n, len(r.items)))], true
}

// outcome is what one request got.
type outcome struct {
	status  int           // 0 if none
	err     error         // the client's error, if any
	latency time.Duration // until the answer was read
}

// post sends body through client with X-Forwarded-For set to from, either
// with its length declared or chunked, and reads the whole answer.
func (tr *traffic) post(client *http.Client, body []byte, from string, chunked bool) outcome {
	var reader io.Reader = bytes.NewReader(body)
	if chunked {
		reader = io.MultiReader(reader) // hides the length: sent chunked
	}
	req, err := http.NewRequest(http.MethodPost, tr.url, reader)
	if err != nil {
		return outcome{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", from)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return outcome{err: err, latency: time.Since(start)}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return outcome{status: resp.StatusCode, err: err, latency: time.Since(start)}
}

// errorClass names a client error briefly, for the summary.
func errorClass(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EPIPE):
		return "broken pipe"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "closed without an answer"
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "timed out"
	}
	return fmt.Sprintf("%T", errors.Unwrap(err))
}
