package sundial

import (
	"syscall"
	"time"
)

// canSleepExactly tells whether sleepExactly can sleep here.
const canSleepExactly = true

// sleepExactly blocks the calling thread for d with nanosleep, which the
// kernel ends within its timer slack (50µs by default). A Go timer ends
// up to a millisecond late: the runtime waits in epoll, whose timeout is
// in whole milliseconds. It reports whether it slept.
func sleepExactly(d time.Duration) bool {
	ts := syscall.NsecToTimespec(int64(d))
	for {
		var left syscall.Timespec
		err := syscall.Nanosleep(&ts, &left)
		if err != syscall.EINTR {
			return err == nil
		}
		ts = left // a signal (the runtime's preemption) cut it short
	}
}
