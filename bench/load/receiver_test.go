package load

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
	"github.com/smileguard/smileguard/middleware"
	"github.com/smileguard/smileguard/signer"
)

// The addresses of the run, all on loopback (Linux routes 127.0.0.0/8 to
// lo): the receiver listens on 127.0.0.1, the trusted proxy connects from
// 127.0.0.2 and forwards for Smile ID's addresses, and the untrusted
// clients connect from 127.0.0.1.
var (
	listenAddr    = "127.0.0.1:0"
	proxyAddr     = netip.MustParseAddr("127.0.0.2")
	untrustedAddr = netip.MustParseAddr("127.0.0.1")
)

// readTimeout replaces the receiver's ReadTimeout of 30 s, which is sized
// for 1.5 MB over a slow link, so that the slow bodies are cut within the
// run. It is the same http.Server field doing the same work.
const readTimeout = 3 * time.Second

var (
	productionKey = signer.Key{ID: "production", PartnerID: "1622", APIKey: "load-production-api-key", Environment: signer.Production}
	sandboxKey    = signer.Key{ID: "sandbox", PartnerID: "1622", APIKey: "load-sandbox-api-key", Environment: signer.Sandbox}
	// strangerKey signs the forged callbacks: right partner, wrong key.
	strangerKey = signer.Key{ID: "stranger", PartnerID: "1622", APIKey: "not-the-receivers-key", Environment: signer.Production}
)

// receiverConfig is the configuration FromEnv would build from
//
//	SMILEID_KEYS=production,sandbox (with their keys)
//	SMILEGUARD_TRUSTED_PROXIES=127.0.0.2
//	SMILEGUARD_RATE=1000000 SMILEGUARD_BURST=1000000
//
// The rate limit is raised out of the way: eight Smile ID addresses at the
// default 20 requests a second each would turn most of the load into 429s,
// which says nothing about the rest of the guard.
func receiverConfig() receiver.Config {
	return receiver.Config{
		Keys:            []signer.Key{productionKey, sandboxKey},
		TrustedProxies:  []netip.Prefix{netip.PrefixFrom(proxyAddr, 32)},
		ForwardedHeader: "X-Forwarded-For",
		Listen:          listenAddr,
		RateLimit:       middleware.RateLimitConfig{Rate: 1e6, Burst: 1e6},
	}
}

// runningReceiver is the receiver of examples/nethttp serving on loopback.
type runningReceiver struct {
	url    string // of the callback endpoint
	addr   string // host:port
	log    *handledLog
	cancel context.CancelFunc
	served chan error
}

// startReceiver builds the receiver's handler and server as its main does
// and serves them on a loopback port until stop.
func startReceiver() (*runningReceiver, error) {
	log := newHandledLog()
	logger := slog.New(log)
	handler, err := receiver.NewHandler(receiverConfig(), logger)
	if err != nil {
		return nil, err
	}
	srv := receiver.NewServer(handler, logger)
	srv.ReadTimeout = readTimeout
	ln, err := net.Listen("tcp", listenAddr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	rr := &runningReceiver{
		url:    "http://" + ln.Addr().String() + receiver.CallbackPath,
		addr:   ln.Addr().String(),
		log:    log,
		cancel: cancel,
		served: make(chan error, 1),
	}
	go func() { rr.served <- receiver.Serve(ctx, srv, ln) }()
	return rr, nil
}

// stop shuts the receiver down gracefully, as SIGTERM does, and waits for
// it, at most the receiver's ShutdownTimeout and a margin.
func (rr *runningReceiver) stop() error {
	rr.cancel()
	select {
	case err := <-rr.served:
		return err
	case <-time.After(receiver.ShutdownTimeout + 5*time.Second):
		return errors.New("the receiver did not stop")
	}
}

// callbackReceived is the message the receiver's callback handler logs
// once for each callback it is given, with the job id.
const callbackReceived = "receiver: callback received"

// handledLog is the receiver's log: it counts the callbacks the handler was
// given by job id, the records at Error level and the server's own
// complaints (a panic, for one), and drops the rest.
type handledLog struct {
	mu           sync.Mutex
	jobs         map[string]int
	errors       []string
	serverErrors []string
}

func newHandledLog() *handledLog { return &handledLog{jobs: map[string]int{}} }

func (*handledLog) Enabled(context.Context, slog.Level) bool { return true }
func (h *handledLog) WithAttrs([]slog.Attr) slog.Handler     { return h }
func (h *handledLog) WithGroup(string) slog.Handler          { return h }

func (h *handledLog) Handle(_ context.Context, r slog.Record) error {
	switch {
	case r.Message == callbackReceived:
		var job string
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "job_id" {
				job = a.Value.String()
				return false
			}
			return true
		})
		h.mu.Lock()
		h.jobs[job]++
		h.mu.Unlock()
	case r.Level >= slog.LevelError:
		h.mu.Lock()
		h.errors = append(h.errors, r.Message)
		h.mu.Unlock()
	case strings.HasPrefix(r.Message, "http: "): // http.Server's ErrorLog
		h.mu.Lock()
		h.serverErrors = append(h.serverErrors, r.Message)
		h.mu.Unlock()
	}
	return nil
}

// handled returns a copy of the job ids the handler was given, with how
// many times each.
func (h *handledLog) handled() map[string]int {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]int, len(h.jobs))
	for job, n := range h.jobs {
		out[job] = n
	}
	return out
}

// clientFrom returns an HTTP client whose connections come from addr.
func clientFrom(addr netip.Addr) *http.Client {
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: addr.AsSlice()}, Timeout: 5 * time.Second}
	return &http.Client{
		Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			MaxIdleConns:        clients,
			MaxIdleConnsPerHost: clients,
			DisableCompression:  true,
			// The receiver closes a connection on which no request has
			// begun within its ReadHeaderTimeout (5 s). Go's Transport
			// sometimes dials a connection for a request that an idle
			// one then serves, and pools the new one unused; picked
			// later than that, it fails with EOF or a reset before the
			// server has read anything. Under CPU contention this failed
			// the run. Connections idle for at most a second never meet
			// the server's timeout.
			IdleConnTimeout: time.Second,
		},
		Timeout: 15 * time.Second,
	}
}
