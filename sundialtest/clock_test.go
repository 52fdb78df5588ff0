package sundialtest

import (
	"testing"
	"time"
)

func fired(tm interface{ C() <-chan time.Time }) bool {
	select {
	case <-tm.C():
		return true
	default:
		return false
	}
}

func TestClockTimers(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	a, b := c.NewTimer(time.Second), c.NewTimerAt(start.Add(time.Minute))
	if c.Timers() != 2 || fired(a) {
		t.Fatal("timers fired before their time")
	}
	c.Advance(time.Second)
	if !fired(a) || fired(b) || !c.Now().Equal(start.Add(time.Second)) {
		t.Fatal("Advance(1s) should fire only the 1s timer")
	}
	if b.Stop() != true || b.Stop() != false || c.Timers() != 0 {
		t.Error("Stop reports whether the timer was active, once")
	}
	b.Reset(time.Second)
	c.Set(start.Add(time.Hour))
	if !fired(b) {
		t.Error("a reset timer did not fire")
	}
	if z := c.NewTimer(0); !fired(z) {
		t.Error("a zero-duration timer fires at once")
	}
	if !c.WaitForTimers(0, time.Millisecond) || c.WaitForTimers(1, 10*time.Millisecond) {
		t.Error("WaitForTimers")
	}
}
