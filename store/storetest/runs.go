package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// addPending inserts pending runs directly.
func addPending(t *testing.T, s sundial.Store, runs ...*sundial.Run) {
	t.Helper()
	if got, err := s.AddRuns(context.Background(), runs); err != nil || len(got) != len(runs) {
		t.Fatalf("AddRuns = %d runs, %v", len(got), err)
	}
}

func claimRuns(t *testing.T, s sundial.Store, node string, now time.Time, slots int) []*sundial.Run {
	t.Helper()
	runs, err := s.ClaimRuns(context.Background(), sundial.RunClaim{Node: node, Now: now, Horizon: now, Limit: map[string]int{"default": slots}})
	if err != nil {
		t.Fatalf("ClaimRuns: %v", err)
	}
	return runs
}

func finish(t *testing.T, s sundial.Store, r *sundial.Run, state sundial.RunState, at time.Time, retry *sundial.Run) error {
	t.Helper()
	done := r.Clone()
	done.State, done.Finished = state, at
	return s.FinishRun(context.Background(), done, retry)
}

func testRuns(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	t.Run("ClaimStartFinish", func(t *testing.T) {
		s := newStore(t)
		mustAdd(t, s, job("a", base))
		addPending(t, s, pendingRun("a", base), pendingRun("a", base.Add(time.Hour)))
		got := claimRuns(t, s, "n1", base, 10)
		if len(got) != 1 || got[0].State != sundial.RunRunning || got[0].Node != "n1" || got[0].Fence < 1 {
			t.Fatalf("ClaimRuns = %+v: want the one due run, running on n1 with a fence", got)
		}
		if err := finish(t, s, got[0], sundial.RunSucceeded, base.Add(time.Second), nil); err != nil {
			t.Fatal(err)
		}
		r, _ := s.GetRun(ctx, got[0].ID)
		if r.State != sundial.RunSucceeded || r.Duration() != time.Second {
			t.Errorf("finished run = %+v", r)
		}
		if err := finish(t, s, got[0], sundial.RunFailed, base, nil); !errors.Is(err, sundial.ErrConflict) {
			t.Errorf("finishing twice: %v, want ErrConflict", err)
		}
	})
	t.Run("FinishRunsBatch", func(t *testing.T) {
		s := newStore(t)
		f, ok := s.(sundial.RunFinisher)
		if !ok {
			t.Skip("the store records run ends one at a time (no RunFinisher)")
		}
		mustAdd(t, s, job("a", base))
		mustAdd(t, s, job("b", base))
		addPending(t, s, pendingRun("a", base), pendingRun("b", base))
		got := claimRuns(t, s, "n1", base, 10)
		if len(got) != 2 {
			t.Fatalf("claimed %d runs, want 2", len(got))
		}
		ok1, ok2 := got[0].Clone(), got[1].Clone()
		ok1.State, ok1.Finished = sundial.RunSucceeded, base.Add(time.Second)
		ok2.State, ok2.Finished = sundial.RunFailed, base.Add(time.Second)
		retry := pendingRun(ok2.JobID, base)
		retry.Attempt, retry.Due = 2, base.Add(time.Minute)
		stale := ok1.Clone() // finished twice: refused on its own
		unknown := ok1.Clone()
		unknown.ID = "no-such-run"
		errs := f.FinishRuns(ctx, []sundial.RunEnd{{Run: ok1}, {Run: ok2, Retry: retry}, {Run: stale}, {Run: unknown}, {Run: &sundial.Run{ID: "x"}}})
		if len(errs) != 5 || errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], sundial.ErrConflict) ||
			!errors.Is(errs[3], sundial.ErrNotFound) || !errors.Is(errs[4], sundial.ErrInvalid) {
			t.Fatalf("FinishRuns = %v; want nil, nil, conflict, not found, invalid", errs)
		}
		for _, want := range []*sundial.Run{ok1, ok2} {
			if r, err := s.GetRun(ctx, want.ID); err != nil || r.State != want.State {
				t.Errorf("run %s = %+v, %v; want %s", want.ID, r, err, want.State)
			}
		}
		if r, err := s.GetRun(ctx, retry.ID); err != nil || r.State != sundial.RunPending || r.Attempt != 2 {
			t.Errorf("the retry = %+v, %v; want pending attempt 2", r, err)
		}
	})
	t.Run("NeverStarted", func(t *testing.T) {
		// A run claimed but cancelled before its task began is recorded
		// with no Started, whatever time the claim set.
		s := newStore(t)
		mustAdd(t, s, job("a", base))
		addPending(t, s, pendingRun("a", base))
		got := claimRuns(t, s, "n1", base, 10)
		done := got[0].Clone()
		done.State, done.Reason, done.Started, done.Finished = sundial.RunInterrupted, "shutdown", time.Time{}, base.Add(time.Second)
		if err := s.FinishRun(ctx, done, nil); err != nil {
			t.Fatal(err)
		}
		if r, err := s.GetRun(ctx, got[0].ID); err != nil || !r.Started.IsZero() || r.State != sundial.RunInterrupted {
			t.Errorf("never-started run = %+v, %v; want interrupted with no Started", r, err)
		}
	})
	t.Run("MaxInstancesAndFences", func(t *testing.T) {
		s := newStore(t)
		j := job("a", base)
		j.MaxInstances = 2
		mustAdd(t, s, j)
		for i := range 5 {
			addPending(t, s, pendingRun("a", base.Add(-time.Duration(i)*time.Second)))
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		var started []*sundial.Run
		for n := range 4 { // four nodes race for the runs
			wg.Add(1)
			go func() {
				defer wg.Done()
				rs, _ := s.ClaimRuns(ctx, sundial.RunClaim{Node: string(rune('a' + n)), Now: base, Horizon: base, Limit: map[string]int{"default": 5}})
				mu.Lock()
				started = append(started, rs...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		if len(started) != 2 {
			t.Fatalf("%d runs started at once, want MaxInstances = 2", len(started))
		}
		finish(t, s, started[0], sundial.RunSucceeded, base, nil)
		more := claimRuns(t, s, "z", base, 5)
		if len(more) != 1 {
			t.Fatalf("after one finished, %d more started, want 1", len(more))
		}
		fences := map[int64]bool{}
		for _, r := range append(started, more...) {
			fences[r.Fence] = true
		}
		if len(fences) != 3 || !fences[1] || !fences[2] || !fences[3] {
			t.Errorf("fencing tokens %v, want 1, 2, 3", fences)
		}
	})
	t.Run("RetryWithFinish", func(t *testing.T) {
		s := newStore(t)
		j := job("a", base)
		j.Retry = sundial.RetryPolicy{Attempts: 2, Backoff: time.Minute}
		mustAdd(t, s, j)
		addPending(t, s, pendingRun("a", base))
		r := claimRuns(t, s, "n", base, 1)[0]
		failed := r.Clone()
		failed.State = sundial.RunFailed
		retry := sundial.PlanRetry(j, failed, base)
		if err := finish(t, s, r, sundial.RunFailed, base, retry); err != nil {
			t.Fatal(err)
		}
		if got := claimRuns(t, s, "n", base.Add(59*time.Second), 1); len(got) != 0 {
			t.Errorf("the retry started before its backoff")
		}
		got := claimRuns(t, s, "n", base.Add(time.Minute), 1)
		if len(got) != 1 || got[0].Attempt != 2 || !got[0].Scheduled.Equal(base) {
			t.Fatalf("retry = %+v", got)
		}
	})
	t.Run("CancelRequest", func(t *testing.T) {
		s := newStore(t)
		mustAdd(t, s, job("a", base))
		addPending(t, s, pendingRun("a", base))
		r := claimRuns(t, s, "n1", base, 1)[0]
		hb, _ := s.Heartbeat(ctx, sundial.NodeInfo{ID: "n1", Running: []string{r.ID}}, base)
		if len(hb.Cancel) != 0 {
			t.Errorf("nothing to cancel yet, got %v", hb.Cancel)
		}
		d := claim(t, s, "n1", base, 1)[0]
		s.CommitFires(ctx, []sundial.FireCommit{{JobID: "a", Token: d.Token, Cancel: []string{r.ID}, NextFire: base.Add(time.Minute)}}, base)
		hb, _ = s.Heartbeat(ctx, sundial.NodeInfo{ID: "n1", Running: []string{r.ID, "unknown-run"}}, base)
		if len(hb.Cancel) != 2 {
			t.Errorf("Heartbeat.Cancel = %v, want the cancelled run and the unknown one", hb.Cancel)
		}
	})
}
