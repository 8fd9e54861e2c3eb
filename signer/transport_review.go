package signer

import "context"

// reviewKey logs, once per key, what Key.Review reports about the key the
// Transport signs with. It runs when the Transport derives its state: on
// first use and whenever its fields change.
func (t *Transport) reviewKey(sealed sealedKey) {
	if t.Logger == nil {
		return
	}
	key := sealed()
	if previous, _ := t.reviewed.Swap(sealed).(sealedKey); previous != nil && previous() == key {
		return // reviewed already, by a concurrent first request or before a change of other fields
	}
	if w, ok := key.Review(t.now(), t.KeyPolicy); ok {
		LogKeyWarnings(context.Background(), t.Logger, []KeyWarning{w})
	}
}
