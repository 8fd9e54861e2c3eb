package proxy

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/middleware"
)

// A forwarder is the Guard's next handler: it sends the admitted callback
// to the upstream and passes the upstream's answer back, so that the Guard
// records the delivery as handled only when the upstream answered 2xx.
//
// The upstream exchange is detached from the client's cancellation and
// bounded by its own timeout: when Smile ID hangs up while the upstream
// works, the upstream's verdict still decides, so a callback the upstream
// handled is acknowledged on retry instead of being handled twice, and one
// it failed is released for the retry. Whatever goes wrong on the way (the
// upstream down, slow, or breaking off its answer) ends in a status
// outside 2xx or a panic, both of which the Guard takes as "not handled".
type forwarder struct {
	proxy    *httputil.ReverseProxy
	upstream *url.URL
	timeout  time.Duration
	logger   *slog.Logger
	metrics  *metrics
}

func newForwarder(cfg *Config, logger *slog.Logger, m *metrics) *forwarder {
	f := &forwarder{upstream: cfg.Upstream, timeout: cfg.UpstreamTimeout, logger: logger, metrics: m}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	f.proxy = &httputil.ReverseProxy{
		Rewrite: f.rewrite,
		Transport: &http.Transport{
			// No Proxy: callbacks go to the upstream directly, whatever
			// HTTP_PROXY the environment holds.
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          1024,
			MaxIdleConnsPerHost:   512,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			DisableCompression:    true, // pass the answer on as it came
		},
		BufferPool:     &bufferPool{},
		ModifyResponse: f.modifyResponse,
		ErrorHandler:   f.upstreamFailed,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return f
}

// exchange is one callback's trip to the upstream: the writer the
// ReverseProxy answers through, and what the upstream did.
type exchange struct {
	http.ResponseWriter
	upstreamStatus int  // the upstream's status; 0 if it never answered
	bodyFailed     bool // reading the upstream's answer failed midway
	failure        int  // 502 or 504 when the upstream could not be used
}

type exchangeKey struct{}

// Unwrap lets http.ResponseController reach the server's writer.
func (x *exchange) Unwrap() http.ResponseWriter { return x.ResponseWriter }

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cb, ok := middleware.CallbackFromContext(r.Context())
	if !ok {
		// Only the Guard calls this handler, and only for a verified
		// callback: anything else is a wiring bug. Fail closed.
		http.Error(w, "smileguard: not a verified callback", http.StatusInternalServerError)
		return
	}
	start := time.Now()
	x := &exchange{ResponseWriter: w}
	ctx := context.WithValue(context.WithoutCancel(r.Context()), exchangeKey{}, x)
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	defer func() {
		handled := x.upstreamStatus >= 200 && x.upstreamStatus < 300 && !x.bodyFailed
		if p := recover(); p != nil {
			// The ReverseProxy aborts the answer when copying it fails.
			// If the upstream's answer was read whole, the copy failed
			// writing to the client, who has gone: the upstream's 2xx
			// stands, and returning normally lets the Guard record it.
			// Otherwise the panic goes on, and the Guard releases the
			// delivery for Smile ID's retry.
			if p != http.ErrAbortHandler || !handled {
				f.logForwarded(r, cb, x, start, "aborted")
				panic(p)
			}
			f.logForwarded(r, cb, x, start, "client gone")
			return
		}
		f.logForwarded(r, cb, x, start, "")
	}()
	f.proxy.ServeHTTP(x, r.WithContext(ctx))
}

// rewrite addresses the upstream, removes every Smileguard-* header the
// client sent and adds the verified ones. X-Forwarded-For is the client
// the allowlist admitted, not whatever chain came in.
func (f *forwarder) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(f.upstream)
	pr.SetXForwarded()
	for name := range pr.Out.Header {
		if len(name) >= len(HeaderPrefix) && strings.EqualFold(name[:len(HeaderPrefix)], HeaderPrefix) {
			delete(pr.Out.Header, name)
		}
	}
	if d, ok := allowlist.FromContext(pr.In.Context()); ok {
		pr.Out.Header.Set("X-Forwarded-For", d.ClientIP.String())
	}
	cb, _ := middleware.CallbackFromContext(pr.In.Context())
	pr.Out.Header.Set(HeaderKeyID, cb.KeyID)
	pr.Out.Header.Set(HeaderEnvironment, string(cb.Environment))
	pr.Out.Header.Set(HeaderFormat, string(cb.Format))
}

// modifyResponse records the upstream's status and watches its body, so
// that a failure to read it is told from a failure to write it.
func (f *forwarder) modifyResponse(res *http.Response) error {
	x, ok := res.Request.Context().Value(exchangeKey{}).(*exchange)
	if !ok {
		return errors.New("smileguard: upstream answer without its exchange")
	}
	x.upstreamStatus = res.StatusCode
	res.Body = &watchedBody{ReadCloser: res.Body, x: x}
	return nil
}

// watchedBody notes a failure to read the upstream's answer.
type watchedBody struct {
	io.ReadCloser
	x *exchange
}

func (b *watchedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.x.bodyFailed = true
	}
	return n, err
}

// upstreamFailed answers a callback the upstream could not take: 504 if it
// did not answer in time, 502 otherwise. Either way the Guard releases the
// delivery, so Smile ID's retry is forwarded again.
func (f *forwarder) upstreamFailed(w http.ResponseWriter, r *http.Request, err error) {
	status, text := http.StatusBadGateway, "smileguard: upstream unavailable"
	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		status, text = http.StatusGatewayTimeout, "smileguard: upstream timed out"
	}
	if x, ok := r.Context().Value(exchangeKey{}).(*exchange); ok {
		x.failure = status
	}
	f.metrics.upstreamFailed(status)
	f.logger.LogAttrs(r.Context(), slog.LevelError, "smileguard: upstream failed; the delivery is released for Smile ID's retry",
		slog.Int("status", status), slog.String("error", err.Error()), slog.String("path", r.URL.Path))
	http.Error(w, text, status)
}

// logForwarded logs one forwarded callback: the key, the upstream's
// answer and the time it took. outcome says what went wrong after the
// upstream answered, if anything.
func (f *forwarder) logForwarded(r *http.Request, cb middleware.Callback, x *exchange, start time.Time, outcome string) {
	if x.failure != 0 || !f.logger.Enabled(r.Context(), slog.LevelInfo) {
		return // upstreamFailed logged a failure
	}
	attrs := []slog.Attr{
		slog.String("path", r.URL.Path),
		slog.String("key_id", cb.KeyID),
		slog.String("environment", string(cb.Environment)),
		slog.String("format", string(cb.Format)),
		slog.Int("upstream_status", x.upstreamStatus),
		slog.Float64("upstream_ms", float64(time.Since(start).Microseconds())/1000),
	}
	if d, ok := allowlist.FromContext(r.Context()); ok {
		attrs = append(attrs, slog.String("client_ip", d.ClientIP.String()))
	}
	if outcome != "" {
		attrs = append(attrs, slog.String("outcome", outcome))
	}
	f.logger.LogAttrs(r.Context(), slog.LevelInfo, "smileguard: callback forwarded", attrs...)
}

// bufferPool lends the ReverseProxy its copy buffers: without one it
// allocates 32 KiB for every answer it copies.
type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
