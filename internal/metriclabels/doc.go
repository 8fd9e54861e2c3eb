// Package metriclabels holds what the metrics adapters of the callback
// guard (middleware/prommetrics, middleware/otelmetrics) share: the fixed
// label values of every decision, their indexes, the series the guard can
// produce, and a small table of key IDs. It keeps the two adapters'
// labels the same, so that one dashboard fits both, and bounded, whatever
// an Observer is given. It is internal to this repository; the adapters
// are nested modules released with the core, so they import it.
package metriclabels
