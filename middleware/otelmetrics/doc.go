// Package otelmetrics records the decisions of the Smile ID callback guard
// (middleware.Guard, or a middleware.CallbackVerifier alone) with
// OpenTelemetry metric instruments. It is a module of its own, so that the
// guard's module does not download OpenTelemetry.
//
// Wiring, with the SDK's MeterProvider set up as usual:
//
//	metrics, err := otelmetrics.New(provider, otelmetrics.Options{Keyring: keyring})
//	guard, err := middleware.NewGuard(middleware.GuardConfig{
//		Allowlist: allowlist.Config{Allow: []allowlist.Set{allowlist.SmileIDProduction}},
//		Callback:  middleware.CallbackConfig{Keyring: keyring},
//		Observe:   metrics.Observe,
//	})
//
// # Instruments
//
// All belong to the Meter named [ScopeName].
//
//   - smileguard.callbacks, a counter ({callback}), with attributes
//     outcome, reason, environment and format: one per request the guard
//     decided on. outcome is accepted (passed to the next handler,
//     whatever it then answered), acknowledged (a retry of a delivery
//     already handled, answered 200) or refused; reason is the
//     middleware.ReasonCode, such as forbidden, stale, invalid_signature
//     or replayed; environment is production or sandbox once a signature
//     has verified, else ""; format is body or header once the body has
//     been read, else "".
//   - smileguard.callback.duration, a histogram (s), with attribute
//     outcome: from the guard's first look at the request to its answer,
//     the next handler's work included.
//   - smileguard.callback.body.size, a histogram (By), with attribute
//     outcome: the size of each body the guard read, to set MaxBodyBytes
//     by; a request refused before its body was read is not in it.
//   - smileguard.key.verifications, a counter ({verification}), with
//     attributes key.id and environment: one per request whose signature
//     verified with that key, whatever the guard decided next. A rotated
//     key keeps signing the callbacks of jobs started before the rotation
//     for days; this is how to tell when it has stopped.
//
// The attribute values are those of middleware/prommetrics, and exported
// to Prometheus (with the OpenTelemetry Prometheus exporter's default
// translation) the instruments become smileguard_callbacks_total,
// smileguard_callback_duration_seconds, smileguard_callback_body_size_bytes
// and smileguard_key_verifications_total{key_id, environment}, the
// metrics of middleware/prommetrics (with the exporter's otel_scope_*
// labels besides), so the queries in that package's documentation work
// for both.
//
// The counters' streams the guard is known to produce start at zero, and
// with Options.Keyring so does each key's.
//
// # Bounded attributes
//
// No attribute holds anything a client chooses: never an address, a
// signature, a timestamp, a body or a secret. outcome, reason, environment
// and format take their values from fixed sets (any other value, from a
// newer core or an Event made up by hand, is recorded as "other"), so the
// callbacks counter has at most 1408 streams (4 outcomes × 22 reasons × 4
// environments × 4 formats, "other" included), under the SDK's default
// cardinality limit of 2000, and in practice about forty. key.id is
// the ID of a key of the operator's own keyring, set by configuration and
// never by a request; past 256 distinct key IDs in one process's life,
// further keys are recorded as "other".
package otelmetrics
