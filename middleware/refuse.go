package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/smileguard/smileguard/allowlist"
	"github.com/smileguard/smileguard/internal/refusallog"
)

// refuse answers a refused request, logs it and tells the Observer: through
// the Rejected handler if one is set, with the reason in the request
// context for Reason, else with the status the reason carries and its text
// (for an allowlist denial, a text that does not say why).
func (p *pipeline) refuse(w http.ResponseWriter, r *http.Request, d *delivery, err error) {
	d.err = err
	p.logRefusal(r, d, err)
	status := StatusCode(err)
	switch {
	case p.rejected != nil:
		d.recorder = statusRecorder{ResponseWriter: w}
		p.rejected.ServeHTTP(&d.recorder, r.WithContext(d))
		status = d.recorder.status()
	case errors.Is(err, allowlist.ErrDenied):
		http.Error(w, allowlist.ForbiddenText, status)
	default:
		http.Error(w, err.Error(), status)
	}
	p.observed(r, d, Refused, codeOf(err), status)
}

// logRefusal logs a refused request at Warn: the reason, the status, the
// client IP (resolved, or the peer) and the method, never a credential or
// the body; for an allowlist denial also the peer and the forwarding
// header, cut. The sampler lets through the first refusal from an address
// in each minute, within a budget, and counts the others.
func (p *pipeline) logRefusal(r *http.Request, d *delivery, err error) {
	if p.logger == nil {
		return
	}
	addr := d.decision.ClientIP
	if !addr.IsValid() {
		addr = refusallog.Peer(r)
	}
	full, due := p.sampler.Admit(addr, time.Now())
	refusallog.LogSummaries(r.Context(), p.logger, due)
	if !full {
		return
	}
	if errors.Is(err, allowlist.ErrDenied) {
		attrs := []slog.Attr{
			slog.String("peer", refusallog.Cut(r.RemoteAddr, refusallog.MaxLoggedBytes)),
			slog.String("reason", err.Error()),
		}
		if p.forwardedHeader != "" {
			attrs = append(attrs, slog.String("header", refusallog.Join(r.Header[p.forwardedHeader])))
		}
		if d.decision.ClientIP.IsValid() {
			attrs = append(attrs, slog.String("client_ip", d.decision.ClientIP.String()))
		}
		p.logger.LogAttrs(r.Context(), slog.LevelWarn, "allowlist: request denied", attrs...)
		return
	}
	p.logger.LogAttrs(r.Context(), slog.LevelWarn, "smileguard: callback rejected",
		slog.String("reason", err.Error()), slog.Int("status", StatusCode(err)),
		slog.String("client_ip", clientIP(r, d)), slog.String("method", refusallog.Cut(r.Method, maxLoggedMethod)))
}

// maxLoggedMethod bounds the method written to a log record: a client
// chooses it, and Go's server accepts any token up to its header limit.
const maxLoggedMethod = 32
