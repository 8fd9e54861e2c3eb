package metriclabels

// A KeyTable maps a (key ID, environment) to its series. It is immutable:
// a new key makes a new table. While short, as a keyring is (a key or two
// per environment, three during a rotation), it is searched in order,
// which is quicker than hashing the key ID; past linearKeys entries it is
// indexed by a map.
type KeyTable[T any] struct {
	entries []keyEntry[T]
	index   map[KeyName]int // nil while len(entries) <= linearKeys
}

// KeyName names a key's series: its environment and its ID.
type KeyName struct {
	Environment int // an index of EnvironmentValues
	ID          string
}

type keyEntry[T any] struct {
	name  KeyName
	value T
}

const linearKeys = 8

// Find returns name's value.
func (t *KeyTable[T]) Find(name KeyName) (T, bool) {
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

// Len returns the number of entries.
func (t *KeyTable[T]) Len() int { return len(t.entries) }

// With returns a new table: t and name's value.
func (t *KeyTable[T]) With(name KeyName, value T) *KeyTable[T] {
	next := &KeyTable[T]{entries: make([]keyEntry[T], len(t.entries), len(t.entries)+1)}
	copy(next.entries, t.entries)
	next.entries = append(next.entries, keyEntry[T]{name, value})
	if len(next.entries) > linearKeys {
		next.index = make(map[KeyName]int, len(next.entries))
		for i, e := range next.entries {
			next.index[e.name] = i
		}
	}
	return next
}
