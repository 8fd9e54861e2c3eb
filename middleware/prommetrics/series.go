package prommetrics

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
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
	cells [numOutcomes * numReasons * numEnvironments * numFormats]atomic.Pointer[counterCell]
}

func (c *callbackCounters) counter(outcome, reason, environment, format int) prometheus.Counter {
	i := ((outcome*numReasons+reason)*numEnvironments+environment)*numFormats + format
	if cell := c.cells[i].Load(); cell != nil {
		return cell.Counter
	}
	cell := &counterCell{c.vec.WithLabelValues(
		outcomeValues[outcome], reasonValues[reason], environmentValues[environment], formatValues[format])}
	c.cells[i].Store(cell)
	return cell.Counter
}

// outcomeHistograms is a histogram's table, one cell for each outcome.
type outcomeHistograms struct {
	vec   *prometheus.HistogramVec
	cells [numOutcomes]atomic.Pointer[observerCell]
}

func (h *outcomeHistograms) observer(outcome int) prometheus.Observer {
	if cell := h.cells[outcome].Load(); cell != nil {
		return cell.Observer
	}
	cell := &observerCell{h.vec.WithLabelValues(outcomeValues[outcome])}
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
	table    atomic.Pointer[keyTable[prometheus.Counter]]
	overflow [numEnvironments]atomic.Pointer[counterCell]
}

func (k *keyCounters) counter(id string, environment int) prometheus.Counter {
	if t := k.table.Load(); t != nil {
		if c, ok := t.find(keyName{environment, id}); ok {
			return c
		}
		if t.len() >= maxKeyIDs {
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
		t = &keyTable[prometheus.Counter]{}
	}
	name := keyName{environment, id}
	if c, ok := t.find(name); ok {
		return c
	}
	if t.len() >= maxKeyIDs {
		return k.other(environment)
	}
	c := k.vec.WithLabelValues(id, environmentValues[environment])
	k.table.Store(t.with(name, c))
	return c
}

// other is the counter of the key IDs past maxKeyIDs, kept out of the
// table, which stays bounded.
func (k *keyCounters) other(environment int) prometheus.Counter {
	if cell := k.overflow[environment].Load(); cell != nil {
		return cell.Counter
	}
	cell := &counterCell{k.vec.WithLabelValues(other, environmentValues[environment])}
	k.overflow[environment].Store(cell)
	return cell.Counter
}
