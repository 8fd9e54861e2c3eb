package prommetrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smileguard/smileguard/internal/metriclabels"
)

// The series of a metric vector are looked up once and kept in a table
// indexed by the labels' positions in their fixed sets, so that Observe
// neither hashes label values nor allocates: a child of a vector costs a
// map look-up and a slice for its label values when asked for by name.
// A cell the series made at start-up did not fill is filled on first use,
// from the vector, which returns the same child to every goroutine that
// races to fill it.

type counterCell struct{ prometheus.Counter }

type observerCell struct{ prometheus.Observer }

// callbackCounters is the callbacks counter's table, one cell for each
// (outcome, reason, environment, format).
type callbackCounters struct {
	vec   *prometheus.CounterVec
	cells [metriclabels.NumOutcomes * metriclabels.NumReasons * metriclabels.NumEnvironments * metriclabels.NumFormats]atomic.Pointer[counterCell]
}

func (c *callbackCounters) counter(outcome, reason, environment, format int) prometheus.Counter {
	i := ((outcome*metriclabels.NumReasons+reason)*metriclabels.NumEnvironments+environment)*metriclabels.NumFormats + format
	if cell := c.cells[i].Load(); cell != nil {
		return cell.Counter
	}
	cell := &counterCell{c.vec.WithLabelValues(
		metriclabels.OutcomeValues[outcome], metriclabels.ReasonValues[reason], metriclabels.EnvironmentValues[environment], metriclabels.FormatValues[format])}
	c.cells[i].Store(cell)
	return cell.Counter
}

// outcomeHistograms is a histogram's table, one cell for each outcome.
type outcomeHistograms struct {
	vec   *prometheus.HistogramVec
	cells [metriclabels.NumOutcomes]atomic.Pointer[observerCell]
}

func (h *outcomeHistograms) observer(outcome int) prometheus.Observer {
	if cell := h.cells[outcome].Load(); cell != nil {
		return cell.Observer
	}
	cell := &observerCell{h.vec.WithLabelValues(metriclabels.OutcomeValues[outcome])}
	h.cells[outcome].Store(cell)
	return cell.Observer
}

// maxKeyIDs bounds the key IDs the key counter tells apart; the verifications
// by any further key are counted under key_id "other". Key IDs come from
// the operator's keyring, never from a request, so the bound is only
// reached by a process that has been handed hundreds of keys over its
// life.
const maxKeyIDs = 256

// keyCounters is the key counter's table, replaced whole under mu when a
// key ID is first seen (rarely: at start-up and after a rotation), so that
// looking one up takes no lock.
type keyCounters struct {
	vec      *prometheus.CounterVec
	mu       sync.Mutex
	table    atomic.Pointer[metriclabels.KeyTable[prometheus.Counter]]
	overflow [metriclabels.NumEnvironments]atomic.Pointer[counterCell]
}

func (k *keyCounters) counter(id string, environment int) prometheus.Counter {
	if t := k.table.Load(); t != nil {
		if c, ok := t.Find(metriclabels.KeyName{Environment: environment, ID: id}); ok {
			return c
		}
		if t.Len() >= maxKeyIDs {
			return k.other(environment)
		}
	}
	return k.add(id, environment)
}

func (k *keyCounters) add(id string, environment int) prometheus.Counter {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.table.Load()
	if t == nil {
		t = &metriclabels.KeyTable[prometheus.Counter]{}
	}
	name := metriclabels.KeyName{Environment: environment, ID: id}
	if c, ok := t.Find(name); ok {
		return c
	}
	if t.Len() >= maxKeyIDs {
		return k.other(environment)
	}
	c := k.vec.WithLabelValues(id, metriclabels.EnvironmentValues[environment])
	k.table.Store(t.With(name, c))
	return c
}

// other is the counter of the key IDs past maxKeyIDs, kept out of the
// table, which stays bounded.
func (k *keyCounters) other(environment int) prometheus.Counter {
	if cell := k.overflow[environment].Load(); cell != nil {
		return cell.Counter
	}
	cell := &counterCell{k.vec.WithLabelValues(metriclabels.Other, metriclabels.EnvironmentValues[environment])}
	k.overflow[environment].Store(cell)
	return cell.Counter
}
