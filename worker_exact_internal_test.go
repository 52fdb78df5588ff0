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

// TestNextSpinLead: the spin lead follows the longest recent overshoot
// of a sleep, a quarter more, up at once and down a sixteenth a sleep,
// within its bounds.
func TestNextSpinLead(t *testing.T) {
	const us = time.Microsecond
	cases := []struct {
		name       string
		lead, over time.Duration
		want       time.Duration
	}{
		{"a longer overshoot raises it at once", 100 * us, 200 * us, 250 * us},
		{"never past the bound", 100 * us, 5 * time.Millisecond, maxSpinLead},
		{"a shorter one lowers it a sixteenth", 160 * us, 60 * us, 150 * us},
		{"one within it, by a quarter more", 160 * us, 120 * us, 150 * us},
		{"never under the bound", minSpinLead, 0, minSpinLead},
		{"a sleep that ended early", 160 * us, -10 * us, 150 * us},
	}
	for _, c := range cases {
		if got := nextSpinLead(c.lead, c.over); got != c.want {
			t.Errorf("%s: nextSpinLead(%v, %v) = %v, want %v", c.name, c.lead, c.over, got, c.want)
		}
	}
}

// burstWorker returns a scheduler's worker, not started, whose pool of
// size slots holds n runs of a task that records when each began in
// began, all due at at.
func burstWorker(t *testing.T, slots, n int, at time.Time, began chan<- time.Time) (*worker, []*Run) {
	t.Helper()
	s, err := New(Config{NodeID: "n", Executors: map[string]int{"default": slots}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Handle("t", func(context.Context, *Run) error {
		began <- time.Now()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w := s.worker
	runs := make([]*Run, n)
	w.mu.Lock()
	for i := range runs {
		runs[i] = &Run{ID: fmt.Sprintf("r%d", i), JobID: fmt.Sprintf("j%d", i), Task: "t", Due: at}
		w.hold(newActive(runs[i]))
	}
	w.mu.Unlock()
	return w, runs
}

// TestStartBurstWaitsForItsInstant: startBurst gives a burst's first runs
// their slots and goroutines before its instant, but no task begins
// before it, and every run of the burst starts, through the slots and
// the batch it makes at the instant.
func TestStartBurstWaitsForItsInstant(t *testing.T) {
	const slots, n = 4, 3 * burstRuns
	at := time.Now().Add(20 * time.Millisecond)
	began := make(chan time.Time, n)
	w, _ := burstWorker(t, slots, n, at, began)
	w.startBurst(context.Background(), at)
	if time.Now().Before(at) {
		t.Fatal("startBurst returned before the burst's instant")
	}
	for range n {
		select {
		case b := <-began:
			if b.Before(at) {
				t.Fatalf("a task began %v before its burst's instant", at.Sub(b))
			}
		case <-time.After(10 * time.Second):
			t.Fatal("a run of the burst never started")
		}
	}
	w.tasks.Wait()
}

// TestStartBurstOnShutdown: when the scheduler shuts down after a burst's
// first runs were given slots and before its instant, no task of the
// burst begins: the runs given slots record that they never started, cut
// short by the shutdown, as do the rest, which drain gives back.
func TestStartBurstOnShutdown(t *testing.T) {
	const slots, n = 4, burstRuns
	at := time.Now().Add(time.Millisecond)
	began := make(chan time.Time, n)
	w, runs := burstWorker(t, slots, n, at, began)
	waiting, proceed := make(chan struct{}), make(chan struct{})
	w.awaitBurst = func(time.Time) { // the instant comes once shutdown has begun
		close(waiting)
		<-proceed
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		w.startBurst(ctx, at)
		close(done)
	}()
	<-waiting
	if got := busySlots(w); got != slots {
		t.Fatalf("%d slots busy while the burst waits for its instant, want %d", got, slots)
	}
	cancel() // as Shutdown stops the loop, then drains
	w.mu.Lock()
	for _, p := range w.pools {
		w.giveBack(p, errShutdown)
	}
	w.mu.Unlock()
	close(proceed)
	<-done
	w.tasks.Wait()
	if len(began) > 0 {
		t.Fatalf("%d tasks began after shutdown", len(began))
	}
	for _, r := range runs {
		if r.State != RunInterrupted || r.Reason != ReasonShutdown {
			t.Errorf("run %s: state %s, reason %q; want interrupted by shutdown", r.ID, r.State, r.Reason)
		}
	}
}

// busySlots counts the worker's busy pool slots.
func busySlots(w *worker) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, p := range w.pools {
		n += p.busy
	}
	return n
}

// TestTaskRegisteredAfterClaim: a run claimed while its task was not
// registered runs the task registered before it starts: hold's lookup is
// used only while the registry is the one it looked in.
func TestTaskRegisteredAfterClaim(t *testing.T) {
	s, err := New(Config{NodeID: "n"})
	if err != nil {
		t.Fatal(err)
	}
	w := s.worker
	r := &Run{ID: "r", JobID: "j", Task: "late", Due: time.Now()}
	w.mu.Lock()
	w.hold(newActive(r))
	w.mu.Unlock()
	ran := make(chan struct{}, 1)
	if err := s.Handle("late", func(context.Context, *Run) error {
		ran <- struct{}{}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	w.launchDue()
	w.tasks.Wait()
	if len(ran) != 1 || r.State != RunSucceeded {
		t.Errorf("the task registered after the claim ran %d times; the run ended %s %q", len(ran), r.State, r.Error)
	}
}
