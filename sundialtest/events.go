package sundialtest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// Recorder collects a scheduler's events for a test.
type Recorder struct {
	ch          chan sundial.Event
	unsubscribe func()
}

// Record subscribes to the events in mask; the subscription ends with the
// test. Up to 100,000 events are buffered.
func Record(t testing.TB, s *sundial.Scheduler, mask sundial.EventType) *Recorder {
	r := &Recorder{ch: make(chan sundial.Event, 100000)}
	r.unsubscribe = s.Subscribe(mask, func(e sundial.Event) { r.ch <- e })
	t.Cleanup(r.unsubscribe)
	return r
}

// Wait returns the next event of a type in mask, failing the test if none
// comes within timeout (real time: generous, since nothing here sleeps).
func (r *Recorder) Wait(t testing.TB, mask sundial.EventType, timeout time.Duration) sundial.Event {
	t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case e := <-r.ch:
			if e.Type&mask != 0 {
				return e
			}
		case <-deadline:
			t.Fatalf("no %s event within %v", mask, timeout)
			return sundial.Event{}
		}
	}
}

// AdvanceUntil moves clock forward in steps of step, each time the code
// under test has gone to sleep on at least timers timers, until an event
// of a type in mask arrives; it fails the test after timeout in real time.
// It is robust where a single jump is not: code that is busy when the clock
// jumps arms its timers after the jump.
func (r *Recorder) AdvanceUntil(t testing.TB, clock *Clock, timers int, step time.Duration, mask sundial.EventType, timeout time.Duration) sundial.Event {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case e := <-r.ch:
			if e.Type&mask != 0 {
				return e
			}
			continue
		default:
		}
		clock.WaitForTimers(timers, 50*time.Millisecond)
		clock.Advance(step)
	}
	t.Fatalf("no %s event within %v", mask, timeout)
	return sundial.Event{}
}

// RunTask runs a task function on a synthetic run of job, with args
// marshalled to JSON, the way the scheduler would, and returns its error.
// It lets a test exercise a task without a scheduler.
func RunTask(ctx context.Context, fn sundial.TaskFunc, jobID string, args any, scheduled time.Time) error {
	raw, err := json.Marshal(args)
	if err != nil {
		return err
	}
	run := &sundial.Run{ID: sundial.NewRunID(scheduled), JobID: jobID, Args: raw, Scheduled: scheduled,
		Due: scheduled, Attempt: 1, State: sundial.RunRunning, Started: scheduled}
	return fn(ctx, run)
}
