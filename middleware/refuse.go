package middleware

import (
	"log/slog"
	"net/http"

	"github.com/smileguard/smileguard/internal/plaintext"
)

// refuse answers a refused request: through rejected, if set, with err in
// the request context for Reason, else with err's text as plain text and
// the status StatusCode gives it. d carries err into the context; nil
// makes one.
func refuse(w http.ResponseWriter, r *http.Request, rejected http.Handler, d *delivery, err error) {
	if rejected == nil {
		plaintext.Write(w, StatusCode(err), err.Error())
		return
	}
	if d == nil {
		d = &delivery{Context: r.Context()}
	}
	d.err = err
	rejected.ServeHTTP(w, r.WithContext(d))
}

// logRefusal logs a refused request at Warn with the reason, the status,
// the client IP and the method, never a header or the body.
func logRefusal(logger *slog.Logger, r *http.Request, msg string, err error) {
	if logger == nil {
		return
	}
	logger.LogAttrs(r.Context(), slog.LevelWarn, msg,
		slog.String("reason", err.Error()), slog.Int("status", StatusCode(err)),
		slog.String("client_ip", clientIP(r)), slog.String("method", loggedMethod(r.Method)))
}

// maxLoggedMethod bounds the method written to a log record: a client
// chooses it, and Go's server accepts any token up to its header limit.
const maxLoggedMethod = 32

func loggedMethod(m string) string {
	if len(m) <= maxLoggedMethod {
		return m
	}
	return m[:maxLoggedMethod] + "..."
}
