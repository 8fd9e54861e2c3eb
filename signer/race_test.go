//go:build race

package signer

// raceEnabled: the race detector adds allocations and makes sync.Pool drop
// items, so allocation counts are checked only without it.
const raceEnabled = true
