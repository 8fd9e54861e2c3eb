// Package bench compares smileguard with the libraries and hand-written
// code its users would otherwise pick, and with a floor (the least work
// any correct callback guard must do), on identical inputs, in one
// "go test -bench" run. It holds no code of its own: the benchmarks and
// the floor are in the _test files, cmd/benchtable turns their output into
// the table of bench/README.md, and load holds the receiver's load test
// and the measurement of the guard's cost in throughput.
package bench
