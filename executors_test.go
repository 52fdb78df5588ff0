package sundial_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func TestExecutorsAddAndRemove(t *testing.T) {
	ctx := context.Background()
	release := make(chan struct{})
	e := setup(t, nil, map[string]sundial.TaskFunc{
		"noop": noop,
		"block": func(ctx context.Context, _ *sundial.Run) error {
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	})
	if ev := e.events.Wait(t, sundial.EventStoreAdded, wait); ev.Subject != "*sundial.MemoryStore" {
		t.Errorf("store added: subject %q", ev.Subject)
	}
	if ev := e.events.Wait(t, sundial.EventExecutorAdded, wait); ev.Subject != "default" {
		t.Errorf("executor added at start: subject %q, want default", ev.Subject)
	}
	for _, bad := range []struct {
		name  string
		size  int
		field string
	}{{"", 1, "executor"}, {"io", 0, "size"}, {"io", -3, "size"}} {
		var fe *sundial.FieldError
		if err := e.s.AddExecutor(bad.name, bad.size); !errors.As(err, &fe) || fe.Field != bad.field {
			t.Errorf("AddExecutor(%q, %d) = %v, want a field error on %s", bad.name, bad.size, err, bad.field)
		}
	}
	if err := e.s.AddExecutor("io", 1); err != nil {
		t.Fatal(err)
	}
	if ev := e.events.Wait(t, sundial.EventExecutorAdded, wait); ev.Subject != "io" {
		t.Errorf("executor added: subject %q", ev.Subject)
	}
	if err := e.s.AddExecutor("io", 4); !errors.Is(err, sundial.ErrConflict) {
		t.Errorf("adding io twice: %v, want ErrConflict", err)
	}
	if got := e.s.Executors(); got["io"] != 1 || got["default"] != 10 || len(got) != 2 {
		t.Errorf("Executors() = %v", got)
	}

	// Run 1 holds io's only slot; run 2 is claimed and waits for it.
	e.add(t, &sundial.Job{ID: "j", Task: "block", Executor: "io", MaxInstances: 2, Trigger: sundial.MustEvery(time.Hour, nil)})
	first, err := e.s.RunNow(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	if ev := e.events.Wait(t, sundial.EventRunStarted, wait); ev.RunID != first.ID {
		t.Fatalf("started %s, want %s", ev.RunID, first.ID)
	}
	e.clock.Advance(time.Millisecond) // a second manual run gets its own scheduled time
	second, err := e.s.RunNow(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		r, err := e.store.GetRun(ctx, second.ID)
		return err == nil && r.State == sundial.RunRunning
	})

	if err := e.s.RemoveExecutor("io"); err != nil {
		t.Fatal(err)
	}
	var removed, interrupted sundial.Event
	for range 2 {
		ev := e.events.Wait(t, sundial.EventExecutorRemoved|sundial.EventRunInterrupted, wait)
		if ev.Type == sundial.EventExecutorRemoved {
			removed = ev
		} else {
			interrupted = ev
		}
	}
	if removed.Subject != "io" {
		t.Errorf("executor removed: subject %q", removed.Subject)
	}
	if interrupted.RunID != second.ID || interrupted.Run.Reason != sundial.ReasonCancelled {
		t.Errorf("interrupted %s (%s), want the waiting run %s, cancelled", interrupted.RunID, interrupted.Run.Reason, second.ID)
	}
	close(release)
	if ev := e.events.Wait(t, sundial.EventJobExecuted, wait); ev.RunID != first.ID {
		t.Errorf("executed %s, want the running run %s to finish", ev.RunID, first.ID)
	}
	pending, err := e.store.ListRuns(ctx, sundial.RunFilter{JobID: "j", States: []sundial.RunState{sundial.RunPending}})
	if err != nil || len(pending) != 1 || !pending[0].Scheduled.Equal(second.Scheduled) || pending[0].Attempt != 2 {
		t.Errorf("pending after removal = %v, %v; want the waiting run back, attempt 2", pending, err)
	}

	_, err = e.s.AddJob(ctx, &sundial.Job{ID: "k", Task: "noop", Executor: "io", Trigger: sundial.MustEvery(time.Hour, nil)}, nil)
	var fe *sundial.FieldError
	if !errors.As(err, &fe) || fe.Field != "executor" {
		t.Errorf("AddJob on a removed pool: %v, want a field error on executor", err)
	}
	if err := e.s.RemoveExecutor("io"); !errors.Is(err, sundial.ErrNotFound) {
		t.Errorf("removing io twice: %v, want ErrNotFound", err)
	}
	if err := e.s.RemoveExecutor("default"); !errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("removing default: %v, want ErrInvalid", err)
	}
}

// eventually polls cond in real time, within the generous bound wait.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(wait); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
	}
}

// TestPoolBoundHoldsThroughABurst: runs due together pass their pool
// slots straight to the next due run as they end; the pool's size still
// bounds how many execute at once, and every run is recorded.
func TestPoolBoundHoldsThroughABurst(t *testing.T) {
	const size, jobs = 3, 300
	var now, peak atomic.Int64
	e := setup(t, func(c *sundial.Config) { c.Executors = map[string]int{"default": size} }, map[string]sundial.TaskFunc{
		"t": func(context.Context, *sundial.Run) error {
			n := now.Add(1)
			for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
			}
			runtime.Gosched() // let the others overlap if the bound allows it
			now.Add(-1)
			return nil
		},
	})
	ctx := context.Background()
	at, err := sundial.At(t0.Add(time.Second), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range jobs {
		e.add(t, &sundial.Job{ID: fmt.Sprintf("j%03d", i), Task: "t", Trigger: at})
	}
	e.tick(time.Second)
	for range jobs {
		e.events.Wait(t, sundial.EventJobExecuted, wait)
	}
	runs, err := e.store.ListRuns(ctx, sundial.RunFilter{States: []sundial.RunState{sundial.RunSucceeded}, Limit: jobs + 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != jobs {
		t.Errorf("%d of %d runs recorded as succeeded", len(runs), jobs)
	}
	if p := peak.Load(); p > size {
		t.Errorf("%d runs executed at once in a pool of %d", p, size)
	}
}
