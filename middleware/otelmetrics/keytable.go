package otelmetrics

// A keyTable maps a (key ID, environment) to its series. It is immutable:
// a new key makes a new table. While short, as a keyring is (a key or two
// per environment, three during a rotation), it is searched in order,
// which is quicker than hashing the key ID; past linearKeys entries it is
// indexed by a map.
type keyTable[T any] struct {
	entries []keyEntry[T]
	index   map[keyName]int // nil while len(entries) <= linearKeys
}

type keyName struct {
	environment int
	id          string
}

type keyEntry[T any] struct {
	name  keyName
	value T
}

const linearKeys = 8

func (t *keyTable[T]) find(name keyName) (T, bool) {
	if t.index != nil {
		if i, ok := t.index[name]; ok {
			return t.entries[i].value, true
		}
	} else {
		for i := range t.entries {
			if t.entries[i].name == name {
				return t.entries[i].value, true
			}
		}
	}
	var zero T
	return zero, false
}

func (t *keyTable[T]) len() int { return len(t.entries) }

// with returns a new table: t and name's value.
func (t *keyTable[T]) with(name keyName, value T) *keyTable[T] {
	next := &keyTable[T]{entries: make([]keyEntry[T], len(t.entries), len(t.entries)+1)}
	copy(next.entries, t.entries)
	next.entries = append(next.entries, keyEntry[T]{name, value})
	if len(next.entries) > linearKeys {
		next.index = make(map[keyName]int, len(next.entries))
		for i, e := range next.entries {
			next.index[e.name] = i
		}
	}
	return next
}
