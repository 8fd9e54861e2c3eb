package allowlist

import (
	"context"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/smileguard/smileguard/internal/allowctx"
	"github.com/smileguard/smileguard/internal/refusallog"
)

// An Allowlist admits requests whose client IP is in one of its allowed
// sets. It resolves the client IP by the right-most-untrusted rule (see the
// package documentation) and fails closed: any doubt is a denial.
//
// Most callers want Handler. Check gives the same decision without
// answering the request. Update replaces the configuration while requests
// run. An Allowlist is safe for concurrent use. Its zero value denies every
// request until Update configures it; New is the usual way to make one.
type Allowlist struct {
	current atomic.Pointer[snapshot]
}

// New validates cfg once and returns an Allowlist that applies it. The
// errors wrap ErrInvalidConfig and name the field at fault.
func New(cfg Config) (*Allowlist, error) {
	a := new(Allowlist)
	if err := a.Update(cfg); err != nil {
		return nil, err
	}
	return a, nil
}

// Update validates cfg like New and, if it is valid, replaces the whole
// configuration at once, for example when Smile ID publishes new
// addresses. Requests already running finish under the configuration they
// started with. If cfg is invalid, the current configuration stays and the
// error wraps ErrInvalidConfig.
func (a *Allowlist) Update(cfg Config) error {
	s, err := compile(cfg)
	if err != nil {
		return err
	}
	a.current.Store(s)
	return nil
}

// Check decides whether r may pass, without answering it or logging. It
// returns the client IP and the name of the allowed set that holds it, or
// an error that wraps ErrDenied and is one of ErrBadPeer, ErrNoHeader,
// ErrBadHeader, ErrTooManyHops, ErrAllTrusted or ErrNotAllowed. With
// ErrNotAllowed the Decision still carries the resolved ClientIP. Check
// reads only r.RemoteAddr and the configured header, and allocates nothing
// for an admitted request.
func (a *Allowlist) Check(r *http.Request) (Decision, error) {
	s := a.current.Load()
	if s == nil {
		return Decision{}, errUnconfigured
	}
	return s.check(r)
}

func (s *snapshot) check(r *http.Request) (Decision, error) {
	ip, err := s.clientIP(r)
	if err != nil {
		return Decision{}, err
	}
	i, ok := s.allow.lookup(ip)
	if !ok {
		return Decision{ClientIP: ip}, ErrNotAllowed
	}
	return Decision{ClientIP: ip, Set: s.names[i], Environment: s.envs[i]}, nil
}

// Handler returns a handler that runs next only for requests that Check
// admits, with the Decision in the request context (see FromContext).
// Other requests go to Config.Denied, whose request context tells Reason
// why, and are logged at Warn level to Config.Logger.
func (a *Allowlist) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// One load per request: the whole request sees one configuration.
		s := a.current.Load()
		if s == nil {
			forbidden(w, r)
			return
		}
		d, err := s.check(r)
		if err != nil {
			s.deny(w, r, d, err)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), allowctx.DecisionKey{}, &d)))
	})
}

// deny logs a refused request and hands it to the Denied handler.
func (s *snapshot) deny(w http.ResponseWriter, r *http.Request, d Decision, err error) {
	if s.logger != nil {
		s.logDenial(r, d, err)
	}
	s.denied.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), reasonKey{}, err)))
}

// logDenial writes the Warn record of a denied request: the peer, the
// reason, the forwarding header (cut) and the client IP if it was
// resolved, so that a change of Smile ID's addresses shows in the log the
// day it happens. The sampler bounds how many (see Config.Logger).
func (s *snapshot) logDenial(r *http.Request, d Decision, err error) {
	addr := d.ClientIP
	if !addr.IsValid() {
		addr = refusallog.Peer(r)
	}
	full, due := s.sampler.Admit(addr, time.Now())
	refusallog.LogSummaries(r.Context(), s.logger, due)
	if !full {
		return
	}
	attrs := []slog.Attr{
		slog.String("peer", refusallog.Cut(r.RemoteAddr, refusallog.MaxLoggedBytes)),
		slog.String("reason", err.Error()),
	}
	if s.header != "" {
		attrs = append(attrs, slog.String("header", refusallog.Join(r.Header[s.header])))
	}
	if d.ClientIP.IsValid() {
		attrs = append(attrs, slog.String("client_ip", d.ClientIP.String()))
	}
	s.logger.LogAttrs(r.Context(), slog.LevelWarn, "allowlist: request denied", attrs...)
}

// forbidden is the default Denied handler. It does not say why: the reason
// would teach a caller how to get through.
func forbidden(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, ForbiddenText, http.StatusForbidden)
}

// ForbiddenText is the body of the default Denied answer. It does not say
// why: the reason would teach a caller how to get through.
const ForbiddenText = "allowlist: forbidden"
