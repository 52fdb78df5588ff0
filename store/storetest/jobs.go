package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func testJobs(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	t.Run("AddGetList", func(t *testing.T) {
		s := newStore(t)
		for i := range 5 {
			j := job(fmt.Sprintf("job-%d", i), base.Add(time.Duration(i)*time.Minute))
			j.Tags = []string{fmt.Sprintf("t%d", i%2)}
			if i == 3 {
				j.Task, j.Paused = "other", true
			}
			got := mustAdd(t, s, j)
			if got.Version != 1 || !got.Created.Equal(base) {
				t.Errorf("added job: version %d created %s, want 1 and %s", got.Version, got.Created, base)
			}
		}
		got, err := s.GetJob(ctx, "job-2")
		if err != nil || got.ID != "job-2" || !got.NextFire.Equal(base.Add(2*time.Minute)) {
			t.Fatalf("GetJob = %+v, %v", got, err)
		}
		yes := true
		for _, tt := range []struct {
			f    sundial.JobFilter
			want []string
		}{
			{sundial.JobFilter{}, []string{"job-0", "job-1", "job-2", "job-3", "job-4"}},
			{sundial.JobFilter{Tag: "t1"}, []string{"job-1", "job-3"}},
			{sundial.JobFilter{Task: "other"}, []string{"job-3"}},
			{sundial.JobFilter{Paused: &yes}, []string{"job-3"}},
			{sundial.JobFilter{After: "job-1", Limit: 2}, []string{"job-2", "job-3"}},
		} {
			list, err := s.ListJobs(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, j := range list {
				names = append(names, j.ID)
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("ListJobs(%+v) = %v, want %v", tt.f, names, tt.want)
			}
		}
	})
	t.Run("ReturnsCopies", func(t *testing.T) {
		s := newStore(t)
		j := job("a", base)
		j.Tags = []string{"x"}
		mustAdd(t, s, j)
		j.Tags[0] = "changed by the caller"
		got, _ := s.GetJob(ctx, "a")
		got.Tags[0] = "changed again"
		again, _ := s.GetJob(ctx, "a")
		if again.Tags[0] != "x" {
			t.Errorf("the store shares memory with its callers: tag %q", again.Tags[0])
		}
	})
	t.Run("TriggersRoundTrip", func(t *testing.T) {
		s := newStore(t)
		triggers := []sundial.Trigger{
			sundial.MustCron("30 2 * * *", &sundial.CronOptions{TimeZone: "America/New_York", Jitter: time.Second}),
			sundial.MustEvery(90*time.Second, &sundial.IntervalOptions{Start: base}),
			sundial.MustAt(base.Add(time.Hour), nil),
			sundial.MustCalendar(sundial.CalendarSpec{Months: 1, StartDate: "2024-01-31", At: "09:00"}),
		}
		for i, tr := range triggers {
			j := job(fmt.Sprintf("t%d", i), base)
			j.Trigger = tr
			mustAdd(t, s, j)
			got, err := s.GetJob(ctx, j.ID)
			if err != nil {
				t.Fatal(err)
			}
			a, _ := json.Marshal(tr)
			b, _ := json.Marshal(got.Trigger)
			if string(a) != string(b) {
				t.Errorf("trigger changed in the store:\n put %s\n got %s", a, b)
			}
		}
	})
	t.Run("ConflictPolicies", func(t *testing.T) { testConflicts(t, newStore) })
	t.Run("OptimisticUpdate", func(t *testing.T) {
		s := newStore(t)
		j := mustAdd(t, s, job("a", base))
		j.Name = "renamed"
		up, err := s.UpdateJob(ctx, j, base.Add(time.Second))
		if err != nil || up.Version != 2 || up.Name != "renamed" || !up.Updated.Equal(base.Add(time.Second)) {
			t.Fatalf("UpdateJob = %+v, %v", up, err)
		}
		j.Name = "stale"
		if _, err := s.UpdateJob(ctx, j, base); !errors.Is(err, sundial.ErrConflict) {
			t.Errorf("stale update: %v, want ErrConflict", err)
		}
		if got, _ := s.GetJob(ctx, "a"); got.Name != "renamed" {
			t.Errorf("a refused update changed the job: %q", got.Name)
		}
	})
	t.Run("Remove", func(t *testing.T) {
		s := newStore(t)
		mustAdd(t, s, job("a", base))
		mustAdd(t, s, job("b", base))
		if err := s.RemoveJob(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetJob(ctx, "a"); !errors.Is(err, sundial.ErrNotFound) {
			t.Errorf("GetJob after remove: %v", err)
		}
		if n, err := s.RemoveAllJobs(ctx); err != nil || n != 1 {
			t.Errorf("RemoveAllJobs = %d, %v; want 1", n, err)
		}
		if due := claim(t, s, "n", base.Add(time.Hour), 10); len(due) != 0 {
			t.Errorf("removed jobs were claimed: %v", ids(due))
		}
	})
}

func testConflicts(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	mustAdd(t, s, job("a", base))
	if _, err := s.AddJob(ctx, job("a", base), sundial.ConflictError, base); !errors.Is(err, sundial.ErrConflict) {
		t.Errorf("ConflictError: %v", err)
	}
	keep := job("a", base.Add(time.Hour))
	keep.Name = "new"
	got, err := s.AddJob(ctx, keep, sundial.ConflictKeepExisting, base)
	if err != nil || got.Name != "" {
		t.Errorf("ConflictKeepExisting returned %+v, %v; want the stored job", got, err)
	}
	// Replacing with the same trigger and no NextFire keeps the stored next
	// fire, so a restart that re-declares its jobs does not reset them.
	same := job("a", time.Time{})
	same.Name = "replaced"
	got, err = s.AddJob(ctx, same, sundial.ConflictReplace, base.Add(time.Minute))
	if err != nil || got.Name != "replaced" || !got.NextFire.Equal(base) || got.Version != 2 || !got.Created.Equal(base) {
		t.Errorf("ConflictReplace = %+v, %v", got, err)
	}
	changed := job("a", base.Add(time.Hour))
	changed.Trigger = sundial.MustEvery(time.Hour, nil)
	got, _ = s.AddJob(ctx, changed, sundial.ConflictReplace, base)
	if !got.NextFire.Equal(base.Add(time.Hour)) {
		t.Errorf("a new trigger should take the new next fire, got %s", got.NextFire)
	}
}

func testBadInput(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	mustAdd(t, s, job("a", base))
	bad := []*sundial.Job{nil, {ID: "", Task: "t", Trigger: sundial.MustEvery(time.Minute, nil)},
		{ID: "b", Task: "", Trigger: sundial.MustEvery(time.Minute, nil)}, {ID: "b", Task: "t"},
		{ID: "b", Task: "t", Trigger: sundial.MustEvery(time.Minute, nil), MaxInstances: -1}}
	for _, j := range bad {
		if _, err := s.AddJob(ctx, j, sundial.ConflictReplace, base); !errors.Is(err, sundial.ErrInvalid) {
			t.Errorf("AddJob(%+v): %v, want ErrInvalid", j, err)
		}
		if _, err := s.UpdateJob(ctx, j, base); !errors.Is(err, sundial.ErrInvalid) {
			t.Errorf("UpdateJob(%+v): %v, want ErrInvalid", j, err)
		}
	}
	if list, _ := s.ListJobs(ctx, sundial.JobFilter{}); len(list) != 1 {
		t.Errorf("bad input changed the store: %d jobs", len(list))
	}
	for name, err := range map[string]error{
		"GetJob":    second(s.GetJob(ctx, "nope")),
		"UpdateJob": second(s.UpdateJob(ctx, job("nope", base), base)),
		"RemoveJob": s.RemoveJob(ctx, "nope"),
		"GetRun":    second(s.GetRun(ctx, "nope")),
	} {
		if !errors.Is(err, sundial.ErrNotFound) {
			t.Errorf("%s of a missing ID: %v, want ErrNotFound", name, err)
		}
	}
	if _, err := s.AddRuns(ctx, []*sundial.Run{{ID: "r", JobID: "a", Attempt: 0, State: sundial.RunPending}}); !errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("AddRuns with attempt 0: %v, want ErrInvalid", err)
	}
	if _, err := s.Heartbeat(ctx, sundial.NodeInfo{}, base); !errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("Heartbeat without a node ID: %v, want ErrInvalid", err)
	}
	done, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.AddJob(done, job("c", base), sundial.ConflictReplace, base); !errors.Is(err, context.Canceled) {
		t.Errorf("AddJob with a cancelled context: %v", err)
	}
}

func second[T any](_ T, err error) error { return err }
