package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
	"github.com/smileguard/smileguard/internal/syncbuf"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
	"github.com/smileguard/smileguard/signer/signertest"
)

const (
	callbackPath = "/smileid/callback"
	partnerID    = "0042"

	// The demo's rate limit: generous enough for every other row, from
	// one address, and small enough that the flood trips it at once.
	rateLimit = 1 // request per second per client IP
	rateBurst = 20
)

// demo is a guarded receiver, a trusted proxy in front of it, and the
// clients that play Smile ID and the attackers.
type demo struct {
	production, sandbox signer.Key // made up for this run, never printed
	layout              loopback
	receiverAddr        string
	proxyAddr           string
	proxyURL            string // Smile ID and proxied attackers post here
	directURL           string // attackers who skip the proxy post here
	client              *http.Client
	handled             atomic.Int64   // callbacks the handler ran for
	refused             atomic.Int64   // requests the guard refused, as its Observer counts them
	decided             atomic.Int64   // requests the guard decided on, refused or not
	sent                atomic.Int64   // requests the demo sent to the guard
	logs                syncbuf.Buffer // the guard's log
	servers             []*http.Server

	mu         sync.Mutex
	signatures []string       // every signature made, to look for in the log
	timestamps map[int64]bool // the milliseconds signed at, each used once
}

// start builds the demo's keys, guard and servers on layout.
func start(layout loopback) (*demo, error) {
	d := &demo{
		production: signer.Key{ID: "production-demo", PartnerID: partnerID, APIKey: rand.Text(), Environment: signer.Production},
		sandbox:    signer.Key{ID: "sandbox-demo", PartnerID: partnerID, APIKey: rand.Text(), Environment: signer.Sandbox},
		layout:     layout,
		client:     &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second},
		timestamps: map[int64]bool{},
	}
	// The guard of examples/nethttp, configured as its environment
	// variables would: both environments' keys, one trusted proxy.
	guard, err := receiver.NewGuard(receiver.Config{
		Keys:            []signer.Key{d.production, d.sandbox},
		TrustedProxies:  []netip.Prefix{netip.PrefixFrom(layout.proxyFrom, layout.proxyFrom.BitLen())},
		ForwardedHeader: "X-Forwarded-For",
		RateLimit:       middleware.RateLimitConfig{Rate: rateLimit, Burst: rateBurst},
		Observe: func(_ context.Context, e middleware.Event) {
			if e.Outcome == middleware.Refused {
				d.refused.Add(1)
			}
			d.decided.Add(1)
		},
	}, slog.New(slog.NewJSONHandler(&d.logs, nil)))
	if err != nil {
		return nil, err
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, "cannot read the body", http.StatusBadRequest)
			return
		}
		d.handled.Add(1)
		io.WriteString(w, "handled by your code")
	})
	mux := http.NewServeMux()
	mux.Handle(callbackPath, guard.Handler(handler))

	receiverAt, err := d.listen(layout.receiver, mux)
	if err != nil {
		return nil, err
	}
	d.receiverAddr = receiverAt.String()
	d.directURL = "http://" + receiverAt.String() + callbackPath
	if layout.attackers != layout.receiver {
		direct, err := d.listen(layout.attackers, mux)
		if err != nil {
			d.close()
			return nil, err
		}
		d.directURL = "http://" + direct.String() + callbackPath
	}
	proxy, err := d.listen("127.0.0.1", newProxy(&url.URL{Scheme: "http", Host: receiverAt.String()}, layout.proxyFrom))
	if err != nil {
		d.close()
		return nil, err
	}
	d.proxyAddr = proxy.String()
	d.proxyURL = "http://" + d.proxyAddr + callbackPath
	return d, nil
}

// listen serves h on a free port of ip.
func (d *demo) listen(ip string, h http.Handler) (net.Addr, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return nil, err
	}
	d.servers = append(d.servers, serve(ln, h))
	return ln.Addr(), nil
}

func (d *demo) close() {
	for _, srv := range d.servers {
		srv.Close()
	}
	d.client.CloseIdleConnections()
}

// sign returns body signed with key at now+offset, or a millisecond or so
// later: each call signs at its own millisecond. The signature covers only
// the timestamp and the partner id, so two bodies signed in the same
// millisecond would share a (signature, timestamp) pair, and the guard
// would take the second for a replay of the first.
func (d *demo) sign(key signer.Key, body string, offset time.Duration) []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	at := time.Now().Add(offset).Truncate(time.Millisecond)
	for d.timestamps[at.UnixMilli()] {
		at = at.Add(time.Millisecond)
	}
	d.timestamps[at.UnixMilli()] = true
	out, err := signertest.SignCallback(key, []byte(body), at)
	if err != nil {
		panic(err) // the demo's bodies are JSON objects
	}
	d.signatures = append(d.signatures, signer.Sign(key.APIKey, key.PartnerID, signer.FormatTimestamp(at)))
	return out
}

// signHeaders returns the Response-Signature and Response-Timestamp
// headers of a v3 webhook signed with key at now+offset, at a millisecond
// of its own as sign does.
func (d *demo) signHeaders(key signer.Key, offset time.Duration) http.Header {
	d.mu.Lock()
	defer d.mu.Unlock()
	at := time.Now().Add(offset).Truncate(time.Millisecond)
	for d.timestamps[at.UnixMilli()] {
		at = at.Add(time.Millisecond)
	}
	d.timestamps[at.UnixMilli()] = true
	h := signertest.CallbackHeaders(key, at)
	d.signatures = append(d.signatures, h.Get(middleware.SignatureHeader))
	return h
}

// request is one HTTP request of a scenario.
type request struct {
	method      string // "": POST
	contentType string // "": application/json
	body        []byte
	headers     http.Header // more headers: a v3 webhook's signature

	from   string // the client address played, through the proxy
	direct bool   // skip the proxy: connect to the receiver from an untrusted address
	xff    string // the X-Forwarded-For an attacker writes
}

// send sends req and returns the status it was answered with and the
// answer's text: the reason of a refusal.
func (d *demo) send(ctx context.Context, req request) (int, string, error) {
	method, target := http.MethodPost, d.proxyURL
	if req.method != "" {
		method = req.method
	}
	if req.direct {
		target = d.directURL
	}
	r, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(req.body))
	if err != nil {
		return 0, "", err
	}
	for name, values := range req.headers {
		r.Header[name] = values
	}
	r.Header.Set("Content-Type", "application/json")
	if req.contentType != "" {
		r.Header.Set("Content-Type", req.contentType)
	}
	if req.from != "" {
		r.Header.Set(pretendHeader, req.from)
	}
	if req.xff != "" {
		r.Header.Set("X-Forwarded-For", req.xff)
	}
	d.sent.Add(1)
	resp, err := d.client.Do(r)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	text, err := io.ReadAll(io.LimitReader(resp.Body, 200))
	return resp.StatusCode, strings.TrimSpace(string(text)), err
}

// settle waits until the guard's Observer has been told of every request
// sent: it is told after the answer, which the client may read first.
func (d *demo) settle(ctx context.Context) {
	for d.decided.Load() < d.sent.Load() && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
}

// describe says how the demo is laid out.
func (d *demo) describe() string {
	return fmt.Sprintf(""+
		"  receiver   %-22s middleware.Guard: Smile ID's addresses, rate limit, signature, freshness, replay\n"+
		"  proxy      %-22s your load balancer: connects from %s, writes X-Forwarded-For\n"+
		"  attackers  %-22s connect to the receiver directly, from %s",
		d.receiverAddr, d.proxyAddr, d.layout.proxyFrom, "", d.layout.attackers)
}
