//go:build !race

package bodyread

const raceEnabled = false
