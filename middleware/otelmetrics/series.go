package otelmetrics

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/smileguard/smileguard/internal/metriclabels"
)

// The attribute sets of the measurements are made once per combination of
// values and kept, ready as options, in tables indexed by the values'
// positions in their fixed sets, so that Observe neither sorts nor
// allocates attributes: attribute.NewSet sorts and copies, and
// metric.WithAttributes calls it on every measurement. A cell not filled
// at start-up is filled on first use; goroutines racing to fill one store
// equal sets.

const (
	outcomeKey     = attribute.Key("outcome")
	reasonKey      = attribute.Key("reason")
	environmentKey = attribute.Key("environment")
	formatKey      = attribute.Key("format")
	keyIDKey       = attribute.Key("key.id")
)

// measurement is the one option of a measurement: its attribute set, as
// the option slices each kind of instrument takes.
type measurement struct {
	add    []metric.AddOption
	record []metric.RecordOption
}

func newMeasurement(base []attribute.KeyValue, kvs ...attribute.KeyValue) *measurement {
	all := make([]attribute.KeyValue, 0, len(base)+len(kvs))
	all = append(append(all, base...), kvs...)
	opt := metric.WithAttributeSet(attribute.NewSet(all...))
	return &measurement{add: []metric.AddOption{opt}, record: []metric.RecordOption{opt}}
}

// callbackAttributes is the callbacks counter's table, one cell for each
// (outcome, reason, environment, format).
type callbackAttributes struct {
	base  []attribute.KeyValue
	cells [metriclabels.NumOutcomes * metriclabels.NumReasons * metriclabels.NumEnvironments * metriclabels.NumFormats]atomic.Pointer[measurement]
}

func (c *callbackAttributes) get(outcome, reason, environment, format int) *measurement {
	i := ((outcome*metriclabels.NumReasons+reason)*metriclabels.NumEnvironments+environment)*metriclabels.NumFormats + format
	if m := c.cells[i].Load(); m != nil {
		return m
	}
	m := newMeasurement(c.base,
		outcomeKey.String(metriclabels.OutcomeValues[outcome]), reasonKey.String(metriclabels.ReasonValues[reason]),
		environmentKey.String(metriclabels.EnvironmentValues[environment]), formatKey.String(metriclabels.FormatValues[format]))
	c.cells[i].Store(m)
	return m
}

// outcomeAttributes is the histograms' table, one cell for each outcome.
type outcomeAttributes struct {
	base  []attribute.KeyValue
	cells [metriclabels.NumOutcomes]atomic.Pointer[measurement]
}

func (o *outcomeAttributes) get(outcome int) *measurement {
	if m := o.cells[outcome].Load(); m != nil {
		return m
	}
	m := newMeasurement(o.base, outcomeKey.String(metriclabels.OutcomeValues[outcome]))
	o.cells[outcome].Store(m)
	return m
}

// maxKeyIDs bounds the key IDs the key counter tells apart; the
// verifications by any further key are counted under key.id "other". Key
// IDs come from the operator's keyring, never from a request, so the bound
// is only reached by a process that has been handed hundreds of keys over
// its life.
const maxKeyIDs = 256

// keyAttributes is the key counter's table, replaced whole under mu when
// a key ID is first seen (rarely: at start-up and after a rotation), so
// that looking one up takes no lock.
type keyAttributes struct {
	base     []attribute.KeyValue
	mu       sync.Mutex
	table    atomic.Pointer[metriclabels.KeyTable[*measurement]]
	overflow [metriclabels.NumEnvironments]atomic.Pointer[measurement]
}

func (k *keyAttributes) get(id string, environment int) *measurement {
	if t := k.table.Load(); t != nil {
		if m, ok := t.Find(metriclabels.KeyName{Environment: environment, ID: id}); ok {
			return m
		}
		if t.Len() >= maxKeyIDs {
			return k.other(environment)
		}
	}
	return k.add(id, environment)
}

func (k *keyAttributes) add(id string, environment int) *measurement {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.table.Load()
	if t == nil {
		t = &metriclabels.KeyTable[*measurement]{}
	}
	name := metriclabels.KeyName{Environment: environment, ID: id}
	if m, ok := t.Find(name); ok {
		return m
	}
	if t.Len() >= maxKeyIDs {
		return k.other(environment)
	}
	m := newMeasurement(k.base, keyIDKey.String(id), environmentKey.String(metriclabels.EnvironmentValues[environment]))
	k.table.Store(t.With(name, m))
	return m
}

// other is the attribute set of the key IDs past maxKeyIDs, kept out of
// the table, which stays bounded.
func (k *keyAttributes) other(environment int) *measurement {
	if m := k.overflow[environment].Load(); m != nil {
		return m
	}
	m := newMeasurement(k.base, keyIDKey.String(metriclabels.Other), environmentKey.String(metriclabels.EnvironmentValues[environment]))
	k.overflow[environment].Store(m)
	return m
}
