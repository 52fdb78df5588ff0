package sundial

import "time"

// Clock tells the time and makes timers. The scheduler and stores use it
// for every decision, so tests can pin time; sundialtest provides a fake.
type Clock interface {
	Now() time.Time
	// NewTimer returns a timer that fires once after d.
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the scheduler uses.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
	// Reset changes the timer to fire after d; it reports whether it had
	// been active.
	Reset(d time.Duration) bool
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer returns a real timer.
func (SystemClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time        { return r.t.C }
func (r realTimer) Stop() bool                 { return r.t.Stop() }
func (r realTimer) Reset(d time.Duration) bool { return r.t.Reset(d) }

// DeadlineClock is implemented by clocks that can make a timer for an
// instant rather than a duration, as sundialtest's fake clock does: then a
// clock that jumps between reading the time and arming a timer cannot push
// the deadline later. The scheduler uses it when the clock has it.
type DeadlineClock interface {
	Clock
	// NewTimerAt returns a timer that fires once the clock reads t.
	NewTimerAt(t time.Time) Timer
}

// rearm returns a timer for the instant at on c: t, stopped and reset,
// when c measures durations, so a loop that wakes often makes no timer per
// wake-up; a new one on a DeadlineClock, which has no reset to an instant.
func rearm(c Clock, t Timer, at time.Time) Timer {
	if _, ok := c.(DeadlineClock); ok || t == nil {
		return timerAt(c, at)
	}
	t.Reset(at.Sub(c.Now()))
	return t
}

// timerAt returns a timer for the instant t on c.
func timerAt(c Clock, t time.Time) Timer {
	if dc, ok := c.(DeadlineClock); ok {
		return dc.NewTimerAt(t)
	}
	return c.NewTimer(t.Sub(c.Now()))
}
