package sundial_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

var t0 = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

const wait = 10 * time.Second // generous real-time bound; nothing sleeps

type env struct {
	s      *sundial.Scheduler
	clock  *sundialtest.Clock
	store  *sundial.MemoryStore
	events *sundialtest.Recorder
}

// setup returns a started scheduler on a fake clock and a memory store;
// edit may change the config first. It is shut down when the test ends.
func setup(t *testing.T, edit func(*sundial.Config), tasks map[string]sundial.TaskFunc) *env {
	t.Helper()
	e := &env{clock: sundialtest.NewClock(t0), store: sundial.NewMemoryStore(sundial.MemoryConfig{})}
	cfg := sundial.Config{Store: e.store, Clock: e.clock, NodeID: "n1"}
	if edit != nil {
		edit(&cfg)
	}
	s, err := sundial.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e.s = s
	for name, fn := range tasks {
		if err := s.Handle(name, fn); err != nil {
			t.Fatal(err)
		}
	}
	e.events = sundialtest.Record(t, s, sundial.EventAll)
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		s.Shutdown(ctx)
	})
	return e
}

func (e *env) add(t *testing.T, j *sundial.Job) sundial.Job {
	t.Helper()
	out, err := e.s.AddJob(context.Background(), j, nil)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tick waits until the loops are asleep, then moves the clock.
func (e *env) tick(d time.Duration) {
	e.clock.WaitForTimers(3, time.Second)
	e.clock.Advance(d)
}

func noop(context.Context, *sundial.Run) error { return nil }

func TestIntervalJobFires(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"noop": noop})
	e.add(t, &sundial.Job{ID: "every-minute", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil)})
	for i := 1; i <= 3; i++ {
		e.tick(time.Minute)
		ev := e.events.Wait(t, sundial.EventJobExecuted, wait)
		if want := t0.Add(time.Duration(i) * time.Minute); !ev.Scheduled.Equal(want) || ev.Run.State != sundial.RunSucceeded {
			t.Fatalf("fire %d: scheduled %s state %s, want %s succeeded", i, ev.Scheduled, ev.Run.State, want)
		}
	}
}

func TestCronJobInZone(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"noop": noop})
	j := e.add(t, &sundial.Job{ID: "seoul", Task: "noop", Trigger: sundial.MustCron("0 22 * * *", &sundial.CronOptions{TimeZone: "Asia/Seoul"})})
	if want := t0.Add(time.Hour); !j.NextFire.Equal(want) {
		t.Errorf("next fire %s, want %s (22:00 in Seoul is 13:00 UTC)", j.NextFire, want)
	}
	e.tick(time.Hour)
	if ev := e.events.Wait(t, sundial.EventJobExecuted, wait); ev.JobID != "seoul" {
		t.Errorf("executed %s", ev.JobID)
	}
}

func TestOneOffJobInThePast(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"noop": noop})
	e.add(t, &sundial.Job{ID: "recent", Task: "noop", Trigger: sundial.MustAt(t0.Add(-30*time.Second), nil)})
	e.add(t, &sundial.Job{ID: "old", Task: "noop", Trigger: sundial.MustAt(t0.Add(-time.Hour), nil)})
	e.tick(time.Second)
	got := map[string]sundial.EventType{}
	for len(got) < 2 {
		ev := e.events.Wait(t, sundial.EventJobExecuted|sundial.EventJobMissed, wait)
		got[ev.JobID] = ev.Type
	}
	if got["recent"] != sundial.EventJobExecuted || got["old"] != sundial.EventJobMissed {
		t.Errorf("within grace runs, beyond is missed: %v", got)
	}
}

func TestPanicAndRetry(t *testing.T) {
	var calls atomic.Int32
	e := setup(t, nil, map[string]sundial.TaskFunc{"flaky": func(ctx context.Context, r *sundial.Run) error {
		if calls.Add(1) == 1 {
			panic("boom")
		}
		if sundial.RunFromContext(ctx).Attempt != 2 {
			return errors.New("want attempt 2")
		}
		return nil
	}})
	e.add(t, &sundial.Job{ID: "flaky", Task: "flaky", Trigger: sundial.MustAt(t0.Add(time.Second), nil),
		Retry: sundial.RetryPolicy{Attempts: 2, Backoff: 10 * time.Second}})
	e.tick(time.Second)
	ev := e.events.Wait(t, sundial.EventJobError, wait)
	if !strings.Contains(ev.Err, "boom") || !strings.Contains(ev.Stack, "goroutine") {
		t.Errorf("panic event: err %q, stack %d bytes", ev.Err, len(ev.Stack))
	}
	if ev := e.events.Wait(t, sundial.EventRunRetrying, wait); ev.Attempt != 2 {
		t.Errorf("retrying attempt %d", ev.Attempt)
	}
	e.tick(10 * time.Second)
	if ev := e.events.Wait(t, sundial.EventJobExecuted, wait); ev.Attempt != 2 {
		t.Errorf("the retry ran as attempt %d", ev.Attempt)
	}
}

func TestMaxInstancesSkips(t *testing.T) {
	release := make(chan struct{})
	e := setup(t, nil, map[string]sundial.TaskFunc{"slow": func(ctx context.Context, r *sundial.Run) error {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}})
	e.add(t, &sundial.Job{ID: "slow", Task: "slow", Trigger: sundial.MustEvery(time.Minute, nil)})
	e.tick(time.Minute)
	e.events.Wait(t, sundial.EventRunStarted, wait)
	e.tick(59*time.Second + 500*time.Millisecond) // the next fire is created ahead and waits for the running one
	e.tick(time.Minute)                           // one running, one waiting: the third fire is skipped
	ev := e.events.Wait(t, sundial.EventJobMaxInstances, wait)
	if !ev.Scheduled.Equal(t0.Add(3*time.Minute)) || ev.Run.Reason != sundial.ReasonMaxInstances {
		t.Errorf("skipped fire %s (%s)", ev.Scheduled, ev.Run.Reason)
	}
	close(release)
}

func TestListenerMayCallTheScheduler(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"noop": noop})
	removed := make(chan error, 1)
	e.s.Subscribe(sundial.EventJobExecuted, func(ev sundial.Event) {
		removed <- e.s.RemoveJob(context.Background(), ev.JobID)
	})
	e.add(t, &sundial.Job{ID: "once", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil)})
	e.tick(time.Minute)
	select {
	case err := <-removed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(wait):
		t.Fatal("the listener never ran (deadlock?)")
	}
	if _, err := e.s.GetJob(context.Background(), "once"); !errors.Is(err, sundial.ErrNotFound) {
		t.Errorf("job still there: %v", err)
	}
}

// TestTimeoutCancelsTheTask: a task's context carries its run, and is
// cancelled, with the timeout as its cause, when the timeout passes;
// so is a context the task derives from it.
func TestTimeoutCancelsTheTask(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"hang": func(ctx context.Context, r *sundial.Run) error {
		if got := sundial.RunFromContext(ctx); got != r {
			return fmt.Errorf("RunFromContext = %p, want the task's run %p", got, r)
		}
		child, stop := context.WithCancel(ctx)
		defer stop()
		<-child.Done()
		return context.Cause(child)
	}})
	e.add(t, &sundial.Job{ID: "hang", Task: "hang", Trigger: sundial.MustAt(t0.Add(time.Second), nil), Timeout: 30 * time.Second})
	e.tick(time.Second)
	e.events.Wait(t, sundial.EventRunStarted, wait)
	e.clock.WaitForTimers(4, time.Second)
	e.clock.Advance(30 * time.Second)
	ev := e.events.Wait(t, sundial.EventJobError, wait)
	if !strings.HasPrefix(ev.Err, "timed out") || !strings.Contains(ev.Err, "timeout passed") {
		t.Errorf("error %q, want a timeout with the timeout as the context's cause", ev.Err)
	}
}

func TestShutdownCutsShort(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"hang": func(ctx context.Context, r *sundial.Run) error {
		<-ctx.Done()
		return ctx.Err()
	}})
	e.add(t, &sundial.Job{ID: "hang", Task: "hang", Trigger: sundial.MustAt(t0.Add(time.Second), nil)})
	e.tick(time.Second)
	started := e.events.Wait(t, sundial.EventRunStarted, wait)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no patience at all
	cut, err := e.s.Shutdown(ctx)
	if err != nil || len(cut) != 1 || cut[0].ID != started.RunID || cut[0].Reason != sundial.ReasonShutdown {
		t.Fatalf("Shutdown = %+v, %v", cut, err)
	}
	r, _ := e.s.GetRun(context.Background(), started.RunID)
	if r.State != sundial.RunInterrupted {
		t.Errorf("the run is %s in the store, want interrupted (nothing left running)", r.State)
	}
}

func TestRunNowAndBackfill(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"noop": noop})
	e.add(t, &sundial.Job{ID: "hourly", Task: "noop", Trigger: sundial.MustCron("30 * * * *", nil)})
	ctx := context.Background()
	run, err := e.s.RunNow(ctx, "hourly")
	if err != nil || !run.Manual {
		t.Fatalf("RunNow = %+v, %v", run, err)
	}
	if ev := e.events.Wait(t, sundial.EventJobExecuted, wait); ev.RunID != run.ID {
		t.Errorf("executed %s, want the manual run", ev.RunID)
	}
	if j, _ := e.s.GetJob(ctx, "hourly"); !j.NextFire.Equal(t0.Add(30 * time.Minute)) {
		t.Errorf("RunNow moved the schedule to %s", j.NextFire)
	}
	runs, err := e.s.Backfill(ctx, "hourly", t0.Add(-3*time.Hour), t0)
	// 09:30, 10:30 and 11:30
	if err != nil || len(runs) != 3 {
		t.Fatalf("Backfill = %d runs, %v; want 3", len(runs), err)
	}
	again, _ := e.s.Backfill(ctx, "hourly", t0.Add(-3*time.Hour), t0)
	if len(again) != 0 {
		t.Errorf("a second backfill created %d runs, want 0", len(again))
	}
	if _, err := e.s.Backfill(ctx, "hourly", t0, t0); !errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("empty range: %v", err)
	}
}

type reportArgs struct {
	Team string `json:"team"`
}

func TestTypedTaskAndBadInput(t *testing.T) {
	e := setup(t, nil, nil)
	got := make(chan string, 1)
	if err := sundial.HandleFunc(e.s, "report", func(ctx context.Context, a reportArgs) error { got <- a.Team; return nil }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	every := sundial.MustEvery(time.Minute, nil)
	for _, tt := range []struct {
		job   *sundial.Job
		field string
	}{
		{&sundial.Job{ID: "a", Task: "nope", Trigger: every}, "task"},
		{&sundial.Job{ID: "a", Task: "report", Trigger: every, Args: []byte(`{"team":7}`)}, "args"},
		{&sundial.Job{ID: "a", Task: "report", Trigger: every, Args: []byte(`{"colour":"red"}`)}, "args"},
		{&sundial.Job{ID: "a", Task: "report", Trigger: every, Executor: "gpu"}, "executor"},
		{&sundial.Job{ID: "", Task: "report", Trigger: every}, "id"},
		{nil, "job"},
	} {
		var fe *sundial.FieldError
		if _, err := e.s.AddJob(ctx, tt.job, nil); !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("AddJob(%+v): %v, want a *FieldError for %q", tt.job, err, tt.field)
		}
	}
	if jobs, _ := e.s.ListJobs(ctx, sundial.JobFilter{}); len(jobs) != 0 {
		t.Errorf("bad jobs were stored: %d", len(jobs))
	}
	if _, err := e.s.Schedule(ctx, func(context.Context, *sundial.Run) error { return nil }, every, nil); err == nil {
		t.Error("an anonymous function without an ID was accepted")
	}
	if err := e.s.Handle("report", noop); !errors.Is(err, sundial.ErrConflict) {
		t.Errorf("registering a task twice: %v", err)
	}
	e.add(t, &sundial.Job{ID: "ops", Task: "report", Trigger: every, Args: []byte(`{"team":"ops"}`)})
	e.tick(time.Minute)
	select {
	case team := <-got:
		if team != "ops" {
			t.Errorf("args decoded as %q", team)
		}
	case <-time.After(wait):
		t.Fatal("the typed task did not run")
	}
}

func sendReport(context.Context, *sundial.Run) error { return nil }

func TestScheduleDeclaresJobsInCode(t *testing.T) {
	e := setup(t, nil, nil)
	ctx := context.Background()
	j, err := e.s.Schedule(ctx, sendReport, sundial.MustCron("30 * * * *", nil), nil) // not due at t0
	if err != nil || j.ID != "sundial_test.sendReport" {
		t.Fatalf("Schedule = %v, %v", j, err)
	}
	// A restart re-declares the same job: replaced, not duplicated, next
	// fire kept.
	again, err := e.s.Schedule(ctx, sendReport, sundial.MustCron("30 * * * *", nil), nil)
	if err != nil || again.Version != 2 || !again.NextFire.Equal(j.NextFire) {
		t.Errorf("re-declared: %+v, %v", again, err)
	}
	if jobs, _ := e.s.ListJobs(ctx, sundial.JobFilter{}); len(jobs) != 1 {
		t.Errorf("%d jobs after re-declaring", len(jobs))
	}
}

func TestConfigAndRole(t *testing.T) {
	t.Setenv("SUNDIAL_ROLE", "client")
	s, err := sundial.New(sundial.Config{})
	if err != nil || s.Role() != sundial.RoleClient {
		t.Fatalf("SUNDIAL_ROLE=client: %v, %v", s, err)
	}
	if _, ok := s.Clock().(sundial.SystemClock); !ok {
		t.Errorf("default Clock() = %T, want SystemClock", s.Clock())
	}
	t.Setenv("SUNDIAL_ROLE", "janitor")
	var fe *sundial.FieldError
	if _, err := sundial.New(sundial.Config{}); !errors.As(err, &fe) || fe.Field != "SUNDIAL_ROLE" {
		t.Errorf("bad SUNDIAL_ROLE: %v", err)
	}
	t.Setenv("SUNDIAL_ROLE", "")
	for _, cfg := range []sundial.Config{{Lookahead: -1}, {ClaimAhead: -1}, {ClaimAhead: 2 * time.Second}, {Executors: map[string]int{"x": 0}}, {HeartbeatInterval: time.Minute},
		{ClaimBatch: -1}, {Role: 9}, {PruneInterval: -1}, {Retention: sundial.Retention{KeepPerJob: -1}},
		{Retention: sundial.Retention{MaxAge: -time.Hour}}} {
		if _, err := sundial.New(cfg); !errors.Is(err, sundial.ErrInvalid) {
			t.Errorf("New(%+v): %v, want ErrInvalid", cfg, err)
		}
	}
}

func TestRetentionPrunesHistory(t *testing.T) {
	e := setup(t, func(c *sundial.Config) {
		c.Retention, c.PruneInterval = sundial.Retention{KeepPerJob: 2}, time.Second
	}, map[string]sundial.TaskFunc{"noop": noop})
	e.add(t, &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil)})
	for range 5 {
		e.tick(time.Minute)
		e.events.Wait(t, sundial.EventJobExecuted, wait)
	}
	for range 10 { // a few heartbeats: the pruning runs on the heartbeat loop
		runs, err := e.store.ListRuns(context.Background(), sundial.RunFilter{JobID: "j"})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 2 {
			return
		}
		e.tick(2 * time.Second)
	}
	t.Fatal("history was not pruned to the last 2 runs")
}
