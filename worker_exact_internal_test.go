package sundial

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestSleepExactlySleeps: where the platform has it, sleepExactly sleeps
// at least the time asked, and not a great deal more.
func TestSleepExactlySleeps(t *testing.T) {
	const d = 3 * time.Millisecond
	began := time.Now()
	slept := sleepExactly(d)
	took := time.Since(began)
	if slept != canSleepExactly {
		t.Fatalf("sleepExactly reported %v on a platform where it can: %v", slept, canSleepExactly)
	}
	if slept && (took < d || took > d+time.Second) {
		t.Errorf("sleepExactly(%v) took %v", d, took)
	}
}

// TestLaunchDueReportsABurst: the worker loop wakes exactly only for a
// burst, burstRuns or more held runs due at one instant, and only on the
// system clock.
func TestLaunchDueReportsABurst(t *testing.T) {
	at := time.Now().Add(time.Hour).Truncate(time.Second)
	cases := []struct {
		name  string
		dues  []time.Duration // after at, one held run each
		burst bool
	}{
		{"one run", []time.Duration{0}, false},
		{"one short of a burst", make([]time.Duration, burstRuns-1), false},
		{"a burst", make([]time.Duration, burstRuns), true},
		{"spread over the second", spread(2 * burstRuns), false},
		{"a burst after one run", append([]time.Duration{-time.Millisecond}, make([]time.Duration, burstRuns)...), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(Config{NodeID: "n"})
			if err != nil {
				t.Fatal(err)
			}
			w := s.worker
			if w.exactClock() != canSleepExactly {
				t.Errorf("exactClock %v on the system clock, want %v", w.exactClock(), canSleepExactly)
			}
			w.mu.Lock()
			for i, d := range c.dues {
				w.hold(newActive(&Run{ID: fmt.Sprintf("r%d", i), JobID: "j", Due: at.Add(d)}))
			}
			w.mu.Unlock()
			next, burst := w.launchDue()
			if first := at.Add(min(c.dues[0], 0)); !next.Equal(first) {
				t.Errorf("next = %v, want %v", next, first)
			}
			if burst != c.burst {
				t.Errorf("burst = %v, want %v", burst, c.burst)
			}
		})
	}
	s, err := New(Config{NodeID: "n", Clock: stepClock{}})
	if err != nil {
		t.Fatal(err)
	}
	if s.worker.exactClock() {
		t.Error("the worker sleeps exactly on a clock not the system's")
	}
}

// spread returns n offsets a millisecond apart.
func spread(n int) []time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		ds[i] = time.Duration(i) * time.Millisecond
	}
	return ds
}

// stepClock is a clock other than the system's.
type stepClock struct{ SystemClock }

// TestWorkerNotIdleWithRunsUnclaimed: a worker handed a pending run is not
// idle until a claim that began after the hand-over has looked, even
// though it holds nothing yet. The schedule loop asks right after a round
// (wakeAt); taking the worker for idle then made it decide the next fires
// at the instant of the burst it had just created.
func TestWorkerNotIdleWithRunsUnclaimed(t *testing.T) {
	s, err := New(Config{NodeID: "n"})
	if err != nil {
		t.Fatal(err)
	}
	w := s.worker
	if !w.idle() {
		t.Fatal("a new worker is not idle")
	}
	w.created(&Run{ID: "r", JobID: "j", State: RunPending, Due: time.Now().Add(time.Hour)})
	if w.idle() {
		t.Fatal("idle with a run handed over and not yet claimed")
	}
	if _, err := w.claim(context.Background()); err != nil { // the store has no such run
		t.Fatal(err)
	}
	if !w.idle() {
		t.Error("not idle after a claim found nothing to hold")
	}
	w.created(&Run{ID: "done", JobID: "j", State: RunSucceeded})
	if !w.idle() {
		t.Error("a run handed over that is not pending made the worker busy")
	}
}

// TestChainNowFollowsTheSystemClock: a chain's readings of the system
// clock, each the monotonic time since its last full reading added to
// that reading, fall between two readings of time.Now around them and
// never go back; a full reading older than chainRebase is taken again; on
// any other clock the chain asks the clock.
func TestChainNowFollowsTheSystemClock(t *testing.T) {
	s, err := New(Config{NodeID: "n"})
	if err != nil {
		t.Fatal(err)
	}
	w := s.worker
	if !w.systemClock {
		t.Fatal("the default clock is not taken for the system's")
	}
	var c chain
	var prev time.Time
	for range 1000 {
		before := time.Now()
		got := c.now(w)
		after := time.Now()
		if got.Before(before) || got.After(after) {
			t.Fatalf("now = %v, outside [%v, %v]", got, before, after)
		}
		if got.Before(prev) {
			t.Fatalf("now went back from %v to %v", prev, got)
		}
		if d := got.Round(0).Sub(before.Round(0)); d < -time.Millisecond || d > time.Second {
			t.Fatalf("now's wall reading is %v from time.Now's", d)
		}
		prev = got
	}
	stale := time.Now().Add(-2 * chainRebase)
	c.base = stale
	c.now(w)
	if c.base.Equal(stale) {
		t.Error("a full reading older than chainRebase was used again")
	}

	other, err := New(Config{NodeID: "n", Clock: stepClock{}})
	if err != nil {
		t.Fatal(err)
	}
	var oc chain
	oc.now(other.worker)
	if other.worker.systemClock || !oc.base.IsZero() {
		t.Error("a chain derived the time on a clock not the system's")
	}
}
