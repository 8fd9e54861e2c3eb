//go:build race

package main

// raceEnabled builds the binary under test with the race detector too, so
// that the e2e tests race-check the proxy they run.
const raceEnabled = true
