package sundial_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/storetest"
	"github.com/sundialhq/sundial/sundialtest"
)

// TestFailingStoreLosesNothing runs a scheduler over a store whose calls
// fail a fifth of the time, half of them after the store made the change
// (the answer lost). Every fire must still have exactly one record per
// attempt, none left pending or running, and a final record: it ran, or
// was recorded missed, skipped or interrupted (DESIGN invariants 1, 2, 4).
func TestFailingStoreLosesNothing(t *testing.T) {
	const jobs, seconds = 20, 60
	ctx := context.Background()
	mem := sundial.NewMemoryStore(sundial.MemoryConfig{})
	faulty := storetest.NewFaulty(mem, 1)
	clock := sundialtest.NewClock(t0)
	s, err := sundial.New(sundial.Config{Store: faulty, Clock: clock, NodeID: "n1", JobLease: 2 * time.Second,
		HeartbeatInterval: time.Second, HeartbeatTTL: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("noop", noop)
	first, last := t0.Add(time.Second), t0.Add(seconds*time.Second)
	for i := range jobs {
		trig := sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: first, End: last})
		if _, err := s.AddJob(ctx, &sundial.Job{ID: fmt.Sprintf("j%02d", i), Task: "noop", Trigger: trig}, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	faulty.SetRate(0.2)
	for range seconds {
		clock.WaitForTimers(3, wait)
		clock.Advance(time.Second)
	}
	faulty.SetRate(0)
	// Leases expire, retries and recovery run: step the clock until no run
	// is left pending or running (the loops work in real time meanwhile).
	open := []sundial.RunState{sundial.RunPending, sundial.RunRunning}
	for step := 0; ; step++ {
		left, err := mem.ListRuns(ctx, sundial.RunFilter{States: open, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 && allFired(t, mem) {
			break
		}
		if step == 600 {
			t.Fatal("fires still open after 10 simulated minutes")
		}
		clock.WaitForTimers(3, wait)
		clock.Advance(time.Second)
	}
	sctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := s.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	t.Logf("injected failures: %v", faulty.Injected())
	for i := range jobs {
		checkFires(t, mem, fmt.Sprintf("j%02d", i), first, last)
	}
}

// allFired reports whether every job has fired its last fire.
func allFired(t *testing.T, st sundial.Store) bool {
	jobs, err := st.ListJobs(context.Background(), sundial.JobFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if !j.NextFire.IsZero() {
			return false
		}
	}
	return true
}

// checkFires checks the history of a job firing every second from first
// to last.
func checkFires(t *testing.T, st sundial.Store, id string, first, last time.Time) {
	t.Helper()
	runs, err := st.ListRuns(context.Background(), sundial.RunFilter{JobID: id, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	type key struct {
		at      time.Time
		attempt int
	}
	attempts := map[key]int{}
	done := map[time.Time]bool{}
	states := map[time.Time][]string{}
	for _, r := range runs {
		states[r.Scheduled] = append(states[r.Scheduled], fmt.Sprintf("attempt %d %s (%s)", r.Attempt, r.State, r.Reason))
		attempts[key{r.Scheduled, r.Attempt}]++
		switch r.State {
		case sundial.RunPending, sundial.RunRunning:
			t.Errorf("%s fire %s attempt %d is still %s", id, r.Scheduled.Format(time.TimeOnly), r.Attempt, r.State)
		default: // ran, or accounted for: missed, skipped, interrupted with no retry left
			done[r.Scheduled] = true
		}
	}
	for k, n := range attempts {
		if n != 1 {
			t.Errorf("%s fire %s attempt %d has %d records, want 1", id, k.at.Format(time.TimeOnly), k.attempt, n)
		}
	}
	for at := first; !at.After(last); at = at.Add(time.Second) {
		if !done[at] {
			t.Errorf("%s fire %s has no final record: %v", id, at.Format(time.TimeOnly), states[at])
		}
	}
}

// answerLost is a store whose first claim of runs commits and then fails,
// as when the connection drops before the answer arrives.
type answerLost struct {
	*sundial.MemoryStore
	lost atomic.Bool
}

func (s *answerLost) ClaimRuns(ctx context.Context, c sundial.RunClaim) ([]*sundial.Run, error) {
	runs, err := s.MemoryStore.ClaimRuns(ctx, c)
	if err == nil && len(runs) > 0 && s.lost.CompareAndSwap(false, true) {
		return nil, errors.New("connection reset after commit")
	}
	return runs, err
}

// TestLostClaimAnswerAdopted: the runs of a claim whose answer was lost
// are taken by the worker's next claim and run as claimed, one record per
// fire, without waiting a heartbeat TTL to be interrupted and requeued.
func TestLostClaimAnswerAdopted(t *testing.T) {
	ctx := context.Background()
	st := &answerLost{MemoryStore: sundial.NewMemoryStore(sundial.MemoryConfig{})}
	clock := sundialtest.NewClock(t0)
	s, err := sundial.New(sundial.Config{Store: st, Clock: clock, NodeID: "n1", HeartbeatTTL: time.Hour, HeartbeatInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("noop", noop)
	events := sundialtest.Record(t, s, sundial.EventJobExecuted)
	at, err := sundial.At(t0.Add(time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddJob(ctx, &sundial.Job{ID: "once", Task: "noop", Trigger: at}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	events.AdvanceUntil(t, clock, 3, 100*time.Millisecond, sundial.EventJobExecuted, wait)
	if !st.lost.Load() {
		t.Fatal("no claim's answer was lost")
	}
	runs, err := st.ListRuns(ctx, sundial.RunFilter{JobID: "once"})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 || runs[0].State != sundial.RunSucceeded {
		for _, r := range runs {
			t.Logf("run %s: %s (%s)", r.ID, r.State, r.Reason)
		}
		t.Fatalf("the fire has %d runs, want 1 succeeded", len(runs))
	}
}
