//go:build !race

package sundial_test

// raceDetector reports whether the tests run under the race detector,
// whose instrumentation changes what allocates.
const raceDetector = false
