// Package bench compares smileguard with the libraries and hand-written
// code its users would otherwise pick, on identical inputs, in one
// "go test -bench" run. It holds no code of its own: the benchmarks are in
// the _test files, cmd/benchtable turns their output into the README's
// table, and load holds the receiver's load test.
package bench
