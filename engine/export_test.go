package engine

// TimeForward lets the external test package time networks built
// from real checkpoints the same way as the internal benchmarks.
var TimeForward = benchmarkForward
