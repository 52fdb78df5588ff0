package sqlitestore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/sqlitestore"
	"github.com/sundialhq/sundial/sundialtest"
)

// TestSchedulerOnFile runs a scheduler over a file store on a fake clock:
// an interval job fires three times, and after a restart its history and
// next fire are in the file.
func TestSchedulerOnFile(t *testing.T) {
	ctx := context.Background()
	path := tempPath(t)
	store, err := sqlitestore.New(ctx, sqlitestore.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	clock := sundialtest.NewClock(base)
	sched, err := sundial.New(sundial.Config{Store: store, Clock: clock, NodeID: "node-1"})
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan time.Time)
	sched.Handle("poll", func(ctx context.Context, run *sundial.Run) error {
		ran <- run.Scheduled
		return nil
	})
	if _, err := sched.AddJob(ctx, &sundial.Job{ID: "poll", Task: "poll", Trigger: sundial.MustEvery(30*time.Second, nil)}, nil); err != nil {
		t.Fatal(err)
	}
	if err := sched.Start(ctx); err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		clock.WaitForTimers(3, 10*time.Second)
		clock.Advance(30 * time.Second)
		select {
		case at := <-ran:
			if want := base.Add(time.Duration(i) * 30 * time.Second); !at.Equal(want) {
				t.Errorf("run %d scheduled at %s, want %s", i, at, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("run %d did not start", i)
		}
		// The clock moves on once the run's end is in the file, as it
		// would in real time: a run still recorded running when the next
		// fire is decided holds the job's one instance (MaxInstances).
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			done, err := store.ListRuns(ctx, sundial.RunFilter{JobID: "poll", States: []sundial.RunState{sundial.RunSucceeded}})
			if err != nil {
				t.Fatal(err)
			}
			if len(done) == i {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %d's end was not recorded", i)
			}
		}
	}
	if _, err := sched.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	checkHistory(t, path)
}

// checkHistory reopens the file and expects poll's three runs, succeeded,
// and its next fire after them.
func checkHistory(t *testing.T, path string) {
	ctx := context.Background()
	store := open(t, sqlitestore.Config{Path: path, NoMigrate: true})
	runs, err := store.ListRuns(ctx, sundial.RunFilter{JobID: "poll", States: []sundial.RunState{sundial.RunSucceeded}})
	if err != nil || len(runs) != 3 {
		t.Fatalf("after a restart: %d succeeded runs, %v; want 3", len(runs), err)
	}
	for _, r := range runs {
		if r.Node != "node-1" || r.Fence < 1 || r.Finished.IsZero() {
			t.Errorf("run %+v: want node-1, a fence and a finish time", r)
		}
	}
	job, err := store.GetJob(ctx, "poll")
	if err != nil || !job.NextFire.After(runs[0].Scheduled) {
		t.Errorf("after a restart: job %+v, %v; want its next fire after %s", job, err, runs[0].Scheduled)
	}
}

func TestRestartKeepsJobsAndRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := tempPath(t)
	s, err := sqlitestore.New(ctx, sqlitestore.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	trig := sundial.MustCron("30 2 * * *", &sundial.CronOptions{TimeZone: "Asia/Seoul"})
	j := &sundial.Job{ID: "report", Task: "reports.daily", Trigger: trig, NextFire: base.Add(90 * time.Minute),
		Args: []byte(`{"to": "ops"}`), Tags: []string{"daily"}, Retry: sundial.RetryPolicy{Attempts: 3}}
	if _, err := s.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	run := &sundial.Run{ID: sundial.NewRunID(base), JobID: "report", Task: "reports.daily", Scheduled: base,
		Due: base.Add(time.Second), Jitter: time.Second, Attempt: 1, State: sundial.RunPending, Created: base}
	if _, err := s.AddRuns(ctx, []*sundial.Run{run}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, sqlitestore.Config{Path: path, NoMigrate: true})
	got, err := s.GetJob(ctx, "report")
	if err != nil || !got.NextFire.Equal(j.NextFire) || string(got.Args) != `{"to": "ops"}` ||
		got.Retry != j.Retry || got.Version != 1 || len(got.Tags) != 1 {
		t.Fatalf("after reopening, GetJob = %+v, %v", got, err)
	}
	if a, b := mustJSON(t, got.Trigger), mustJSON(t, trig); a != b {
		t.Errorf("trigger after reopening = %s, want %s", a, b)
	}
	if next, _ := s.NextFireTime(ctx); !next.Equal(j.NextFire) {
		t.Errorf("NextFireTime after reopening = %s, want %s", next, j.NextFire)
	}
	r, err := s.GetRun(ctx, run.ID)
	if err != nil || r.State != sundial.RunPending || !r.Due.Equal(run.Due) || r.Jitter != time.Second {
		t.Fatalf("after reopening, GetRun = %+v, %v", r, err)
	}
	if dup, _ := s.AddRuns(ctx, []*sundial.Run{{ID: "other", JobID: "report", Scheduled: base, Attempt: 1, State: sundial.RunPending}}); len(dup) != 0 {
		t.Errorf("after reopening, a second run of the same fire was inserted")
	}
}

func mustJSON(t *testing.T, tr sundial.Trigger) string {
	t.Helper()
	b, err := tr.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
