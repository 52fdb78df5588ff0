// Package sundialtest helps test code that uses sundial: a fake clock that
// moves only when told, so tests of schedules never sleep, and helpers to
// run a task function on a synthetic run and to wait for events.
package sundialtest

import (
	"sort"
	"sync"
	"time"

	"github.com/sundialhq/sundial"
)

// Clock is a sundial.Clock whose time moves only by Advance and Set.
// Timers fire, in order of their deadlines, when the clock passes them.
// It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*timer
	change *sync.Cond
}

// NewClock returns a fake clock reading start.
func NewClock(start time.Time) *Clock {
	c := &Clock{now: start}
	c.change = sync.NewCond(&c.mu)
	return c
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a timer that fires once the clock has moved d ahead.
func (c *Clock) NewTimer(d time.Duration) sundial.Timer {
	t := &timer{clock: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.arm(t, d)
	return t
}

// NewTimerAt returns a timer that fires once the clock reads t; it makes
// Clock a sundial.DeadlineClock.
func (c *Clock) NewTimerAt(t time.Time) sundial.Timer {
	tm := &timer{clock: c, ch: make(chan time.Time, 1)}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.arm(tm, t.Sub(c.now))
	return tm
}

// Advance moves the clock d ahead, firing the timers it passes.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(c.now.Add(d))
}

// Set moves the clock to t (forward or back), firing the timers it passes.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setLocked(t)
}

func (c *Clock) setLocked(t time.Time) {
	c.now = t
	sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].when.Before(c.timers[j].when) })
	keep := c.timers[:0]
	for _, tm := range c.timers {
		if tm.when.After(t) {
			keep = append(keep, tm)
			continue
		}
		tm.active = false
		select {
		case tm.ch <- t:
		default:
		}
	}
	c.timers = keep
	c.change.Broadcast()
}

// Timers returns how many timers are waiting.
func (c *Clock) Timers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// WaitForTimers waits until at least n timers are waiting (the code under
// test has gone to sleep), or timeout passes in real time; it reports
// whether they did.
func (c *Clock) WaitForTimers(n int, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	stop := time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.change.Broadcast()
		c.mu.Unlock()
	})
	defer stop.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(c.timers) < n {
		if time.Now().After(deadline) {
			return false
		}
		c.change.Wait()
	}
	return true
}

func (c *Clock) arm(t *timer, d time.Duration) {
	t.when, t.active = c.now.Add(d), true
	if d <= 0 {
		t.active = false
		select {
		case t.ch <- c.now:
		default:
		}
		return
	}
	c.timers = append(c.timers, t)
	c.change.Broadcast()
}

func (c *Clock) disarm(t *timer) bool {
	for i, x := range c.timers {
		if x == t {
			c.timers = append(c.timers[:i], c.timers[i+1:]...)
			c.change.Broadcast()
			break
		}
	}
	was := t.active
	t.active = false
	return was
}

type timer struct {
	clock  *Clock
	when   time.Time
	ch     chan time.Time
	active bool
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Stop() bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	return t.clock.disarm(t)
}

func (t *timer) Reset(d time.Duration) bool {
	t.clock.mu.Lock()
	defer t.clock.mu.Unlock()
	was := t.clock.disarm(t)
	select {
	case <-t.ch:
	default:
	}
	t.clock.arm(t, d)
	return was
}
