package alert

import (
	"container/heap"
	"time"

	"github.com/sundialhq/sundial"
)

// dueKind says what a timer is for.
type dueKind uint8

const (
	dueSlow   dueKind = iota // a running run passes its relative threshold
	dueFire                  // an expected fire's grace ends
	dueWindow                // a job's rate-limit interval ends
	duePoll                  // time to read the attached scheduler's job list
)

// due is one timer of the alerter: every timer lives in one heap, served
// by one goroutine and one clock timer for the earliest.
type due struct {
	at   time.Time
	kind dueKind
	key  string  // the run ID (dueSlow) or the rate-limit key (dueWindow)
	fire fireKey // dueFire
	idx  int     // in the heap, or -1
}

type dueHeap []*due

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h dueHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].idx, h[j].idx = i, j
}
func (h *dueHeap) Push(x any) {
	d := x.(*due)
	d.idx = len(*h)
	*h = append(*h, d)
}
func (h *dueHeap) Pop() any {
	old := *h
	d := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	d.idx = -1
	return d
}

// scheduleLocked adds a timer and wakes the loop when it is the earliest.
func (a *Alerter) scheduleLocked(d *due) *due {
	heap.Push(&a.timers, d)
	if d.idx == 0 {
		signal(a.wake)
	}
	return d
}

// cancelLocked removes a timer if it is still waiting.
func (a *Alerter) cancelLocked(d *due) {
	if d != nil && d.idx >= 0 {
		heap.Remove(&a.timers, d.idx)
	}
}

// popDue removes and returns the timers due at or before now.
func (a *Alerter) popDue(now time.Time) []*due {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []*due
	for len(a.timers) > 0 && !a.timers[0].at.After(now) {
		out = append(out, heap.Pop(&a.timers).(*due))
	}
	return out
}

func (a *Alerter) nextDue() (time.Time, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.timers) == 0 {
		return time.Time{}, false
	}
	return a.timers[0].at, true
}

// loop serves the timers until Close: it sleeps on the clock until the
// earliest, or until a new earliest or a sync request wakes it.
func (a *Alerter) loop() {
	defer close(a.loopDone)
	for {
		var t sundial.Timer
		var fired <-chan time.Time
		if at, ok := a.nextDue(); ok {
			t = timerAt(a.clock, at)
			fired = t.C()
		}
		var reply chan struct{}
		select {
		case <-fired:
		case <-a.wake:
		case reply = <-a.syncs:
		case <-a.life.Done():
		}
		if t != nil {
			t.Stop()
		}
		if a.life.Err() != nil {
			return
		}
		a.runDue()
		if reply != nil {
			close(reply)
		}
	}
}

// runDue handles the timers that are due on the clock.
func (a *Alerter) runDue() {
	for _, d := range a.popDue(a.clock.Now()) {
		switch d.kind {
		case dueSlow:
			a.slowDue(d)
		case dueFire:
			a.fireDue(d)
		case dueWindow:
			a.windowDue(d)
		case duePoll:
			a.poll()
		}
	}
}

// sync makes the loop handle every timer due on the clock now, and waits
// for it: tests use it after moving a fake clock.
func (a *Alerter) sync() {
	reply := make(chan struct{})
	select {
	case a.syncs <- reply:
		<-reply
	case <-a.loopDone:
	}
}

// timerAt returns a timer for the instant t on c.
func timerAt(c sundial.Clock, t time.Time) sundial.Timer {
	if dc, ok := c.(sundial.DeadlineClock); ok {
		return dc.NewTimerAt(t)
	}
	return c.NewTimer(t.Sub(c.Now()))
}

// signal wakes a goroutine without blocking.
func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
