// Package prommetrics exports the decisions of the Smile ID callback guard
// (middleware.Guard, or a middleware.CallbackVerifier alone) as Prometheus
// metrics. It is a module of its own, so that the guard's module does not
// download the Prometheus client.
//
// Wiring:
//
//	metrics, err := prommetrics.New(prometheus.DefaultRegisterer, prommetrics.Options{Keyring: keyring})
//	guard, err := middleware.NewGuard(middleware.GuardConfig{
//		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
//		Callback:  middleware.CallbackConfig{Keyring: keyring},
//		Observe:   metrics.Observe,
//	})
//	http.Handle("GET /metrics", promhttp.Handler())
//
// # Metrics
//
//   - smileguard_callbacks_total{outcome, reason, environment, format}, a
//     counter: one per request the guard decided on. outcome is accepted
//     (passed to the next handler, whatever it then answered),
//     acknowledged (a retry of a delivery already handled, answered 200)
//     or refused; reason is the middleware.ReasonCode, such as forbidden,
//     stale, invalid_signature or replayed; environment is production or
//     sandbox once a signature has verified, else ""; format is body or
//     header once the body has been read, else "".
//   - smileguard_callback_duration_seconds{outcome}, a histogram: from the
//     guard's first look at the request to its answer, the next handler's
//     work included.
//   - smileguard_callback_body_size_bytes{outcome}, a histogram: the size
//     of each body the guard read, to set MaxBodyBytes by; a request
//     refused before its body was read is not in it.
//   - smileguard_key_verifications_total{key_id, environment}, a counter:
//     one per request whose signature verified with that key, whatever the
//     guard decided next (a replay with another body is counted too: it
//     carried that key's signature). A rotated key keeps signing the
//     callbacks of jobs started before the rotation for days; this is how
//     to tell when it has stopped.
//
// The series the guard is known to produce start at zero, so that rate()
// and increase() count the first event of each and dashboards show 0
// rather than nothing; with Options.Keyring, so does each key's series.
//
// # Bounded labels
//
// No label holds anything a client chooses: never an address, a
// signature, a timestamp, a body or a secret. outcome, reason, environment
// and format take their values from fixed sets (any other value, from a
// newer core or an Event made up by hand, is counted as "other"), so the
// callbacks counter has at most 1408 series (4 outcomes × 22 reasons × 4
// environments × 4 formats, "other" included) and in practice about forty.
// key_id is the ID of a key of the operator's own keyring, set by
// configuration and never by a request; past 256 distinct key IDs in one
// process's life, further keys are counted as "other".
//
// # Queries
//
// How many callbacks were refused in the last day, and why (for "since
// Smile ID's deploy", use the time since then as the range):
//
//	sum by (reason) (increase(smileguard_callbacks_total{outcome="refused"}[1d]))
//
// Traffic per key during a rotation: the old key's line falls to zero
// once every job started under it has called back (retries included), and
// the key can then leave the keyring:
//
//	sum by (key_id) (rate(smileguard_key_verifications_total[15m]))
package prommetrics
