package main

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/go-chi/chi/v5"
	chimiddleware "github.com/go-chi/chi/v5/middleware"

	"github.com/smileguard/smileguard/examples/nethttp/receiver"
	"github.com/smileguard/smileguard/middleware"
)

// newRouter returns the chi router: the callback route behind guard, and a
// health check. chi middleware has net/http's signature, so the guard needs
// no adapter.
//
// Leave chi's middleware.RealIP out: it rewrites RemoteAddr from headers
// that anybody can send, and the guard would take a spoofed address for the
// peer. The guard reads the forwarding header itself, and only from its
// TrustedProxies.
func newRouter(guard *middleware.Guard, logger *slog.Logger) chi.Router {
	r := chi.NewRouter()
	r.Use(chimiddleware.Recoverer)
	r.Get("/healthz", receiver.Healthz)
	r.Group(func(r chi.Router) {
		r.Use(guard.Handler)
		r.Post(receiver.CallbackPath, handleCallback(logger))
	})
	return r
}

// handleCallback is where your code goes; it runs once per genuine, fresh,
// first-time callback. Answer 2xx only once the result is recorded.
func handleCallback(logger *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var res struct{ SmileJobID, ResultCode string }
		if err := json.NewDecoder(r.Body).Decode(&res); err != nil {
			http.Error(w, "unexpected callback fields", http.StatusBadRequest)
			return
		}
		cb, _ := middleware.CallbackFromContext(r.Context())
		logger.InfoContext(r.Context(), "chi: callback received",
			"smile_job_id", res.SmileJobID, "result_code", res.ResultCode, "environment", string(cb.Environment))
		w.WriteHeader(http.StatusOK)
	}
}
