package proxy

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// adminHandler serves the admin listener: GET /healthz (the process
// answers), GET /readyz (it can admit callbacks) and GET /metrics
// (Prometheus).
func (p *Proxy) adminHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", p.readyz)
	mux.Handle("GET /metrics", p.metrics.handler())
	return mux
}

// readyz answers 200 when the proxy can admit callbacks: it is not
// shutting down, every accepted environment has a key usable now, and
// Redis, if configured, answers. Otherwise 503, with one line per reason.
func (p *Proxy) readyz(w http.ResponseWriter, r *http.Request) {
	problems := p.notReady(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, "not ready: "+strings.Join(problems, "; ")+"\n")
		return
	}
	io.WriteString(w, "ready\n")
}

func (p *Proxy) notReady(ctx context.Context) []string {
	var problems []string
	if p.draining.Load() {
		problems = append(problems, "shutting down")
	}
	for _, env := range p.cfg.Environments {
		if p.usableKeys(env) == 0 {
			problems = append(problems, "no "+string(env)+" key usable now")
		}
	}
	if p.redis != nil {
		if err := p.pingRedis(ctx); err != nil {
			problems = append(problems, "redis unreachable: "+err.Error())
		}
	}
	return problems
}
