//go:build race

package bodyread

// raceEnabled: the race detector changes what allocates (slices.Grow's
// temporary is no longer elided), so allocation sizes are checked without it.
const raceEnabled = true
