//go:build !linux

package sundial

import "time"

// canSleepExactly tells whether sleepExactly can sleep here.
const canSleepExactly = false

// sleepExactly reports that this platform has no sleep finer than the Go
// runtime's timers; the caller waits on a timer instead.
func sleepExactly(time.Duration) bool { return false }
