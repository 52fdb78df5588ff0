package sundial_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// plainStore hides the memory store's AddJobs, as a third-party store
// without one would.
type plainStore struct{ sundial.Store }

func TestAddJobs(t *testing.T) {
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprint("plain=", plain), func(t *testing.T) {
			e := setup(t, func(c *sundial.Config) {
				if plain {
					c.Store = plainStore{c.Store}
				}
			}, map[string]sundial.TaskFunc{"noop": noop})
			ctx := context.Background()
			every := func(id string) *sundial.Job {
				return &sundial.Job{ID: id, Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil)}
			}
			stored, err := e.s.AddJobs(ctx, []*sundial.Job{every("a"), every("b"), every("c")}, nil)
			if err != nil || len(stored) != 3 {
				t.Fatalf("AddJobs: %d jobs, %v", len(stored), err)
			}
			for _, j := range stored {
				if !j.NextFire.Equal(t0.Add(time.Minute)) || j.Version != 1 {
					t.Errorf("%s: next fire %v version %d", j.ID, j.NextFire, j.Version)
				}
				if ev := e.events.Wait(t, sundial.EventJobAdded, wait); ev.Job == nil {
					t.Errorf("job_added without its job")
				}
			}

			// A restart re-declares them: the schedules are unchanged, so
			// the stored next fires stay, though the clock moved on.
			e.clock.Advance(30 * time.Second)
			again, err := e.s.AddJobs(ctx, []*sundial.Job{every("a"), every("b"), every("c")}, &sundial.AddOptions{OnConflict: sundial.ConflictReplace})
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range again {
				if !j.NextFire.Equal(t0.Add(time.Minute)) || j.Version != 2 {
					t.Errorf("re-declared %s: next fire %v version %d, want %v and 2", j.ID, j.NextFire, j.Version, t0.Add(time.Minute))
				}
			}

			// Bad input names the job and stores nothing.
			for name, tc := range map[string]struct {
				jobs  []*sundial.Job
				field string
			}{
				"unknown task": {[]*sundial.Job{every("d"), {ID: "e", Task: "nope", Trigger: sundial.MustEvery(time.Minute, nil)}}, "jobs[1].task"},
				"nil job":      {[]*sundial.Job{every("d"), nil}, "jobs[1].job"},
				"same ID":      {[]*sundial.Job{every("d"), every("f"), every("d")}, "jobs[2].id"},
			} {
				_, err := e.s.AddJobs(ctx, tc.jobs, nil)
				var fe *sundial.FieldError
				if !errors.As(err, &fe) || fe.Field != tc.field {
					t.Errorf("%s: err %v, want a FieldError on %s", name, err, tc.field)
				}
			}
			if _, err := e.s.AddJobs(ctx, []*sundial.Job{every("d"), every("a")}, nil); !errors.Is(err, sundial.ErrConflict) {
				t.Errorf("an existing ID under ConflictError: err %v, want ErrConflict", err)
			}
			if _, err := e.s.AddJobs(ctx, nil, &sundial.AddOptions{OnConflict: 9}); !errors.Is(err, sundial.ErrInvalid) {
				t.Errorf("unknown policy: err %v", err)
			}
			jobs, err := e.s.ListJobs(ctx, sundial.JobFilter{})
			if err != nil || len(jobs) != 3 && !plain {
				t.Errorf("after the refused batches: %d jobs, %v; want the first 3 only", len(jobs), err)
			}
			for _, j := range jobs {
				if j.ID != "a" && j.ID != "b" && j.ID != "c" && !(plain && j.ID == "d") {
					t.Errorf("a refused batch stored %s", j.ID)
				}
			}

			e.tick(30 * time.Second)
			for range 3 {
				e.events.Wait(t, sundial.EventJobExecuted, wait)
			}
		})
	}
}

// MemoryStore.AddJobs is all or nothing, and names a bad job by index.
func TestMemoryStoreAddJobs(t *testing.T) {
	ctx := context.Background()
	m := sundial.NewMemoryStore(sundial.MemoryConfig{})
	job := func(id string) *sundial.Job {
		return &sundial.Job{ID: id, Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: t0}
	}
	if _, err := m.AddJob(ctx, job("a"), sundial.ConflictError, t0); err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		jobs   []*sundial.Job
		policy sundial.ConflictPolicy
		want   error
		field  string
	}{
		"nil":      {[]*sundial.Job{job("b"), nil}, sundial.ConflictError, sundial.ErrInvalid, "jobs[1].job"},
		"no task":  {[]*sundial.Job{job("b"), {ID: "c", Trigger: sundial.MustEvery(time.Minute, nil)}}, sundial.ConflictError, sundial.ErrInvalid, "jobs[1].task"},
		"same ID":  {[]*sundial.Job{job("b"), job("b")}, sundial.ConflictReplace, sundial.ErrInvalid, "jobs[1].id"},
		"conflict": {[]*sundial.Job{job("b"), job("a")}, sundial.ConflictError, sundial.ErrConflict, ""},
	} {
		_, err := m.AddJobs(ctx, tc.jobs, tc.policy, t0)
		var fe *sundial.FieldError
		if !errors.Is(err, tc.want) || tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field) {
			t.Errorf("%s: err %v, want %v on %q", name, err, tc.want, tc.field)
		}
	}
	if jobs, _ := m.ListJobs(ctx, sundial.JobFilter{}); len(jobs) != 1 {
		t.Fatalf("refused batches stored jobs: %d, want only a", len(jobs))
	}
	out, err := m.AddJobs(ctx, []*sundial.Job{job("b"), job("a")}, sundial.ConflictKeepExisting, t0.Add(time.Second))
	if err != nil || len(out) != 2 || out[1].Version != 1 || !out[1].Created.Equal(t0) || out[0].Version != 1 {
		t.Fatalf("keep existing: %v %+v", err, out)
	}
}

func TestPrefixField(t *testing.T) {
	plain := errors.New("boom")
	if got := sundial.PrefixField("jobs[1]", plain); got != plain {
		t.Errorf("a plain error changed: %v", got)
	}
	for field, want := range map[string]string{"task": "jobs[1].task", "": "jobs[1]", "[2]": "jobs[1][2]"} {
		err := sundial.PrefixField("jobs[1]", &sundial.FieldError{Field: field, Problem: "bad"})
		var fe *sundial.FieldError
		if !errors.As(err, &fe) || fe.Field != want || !errors.Is(err, sundial.ErrInvalid) {
			t.Errorf("PrefixField(%q) = %v, want field %q", field, err, want)
		}
	}
}

// Stamp is the one rule every store applies to a stored job.
func TestJobStamp(t *testing.T) {
	trig := sundial.MustEvery(time.Minute, &sundial.IntervalOptions{Start: t0})
	old := &sundial.Job{ID: "a", Trigger: trig, NextFire: t0, Created: t0, Version: 3}
	j := &sundial.Job{ID: "a", Trigger: trig}
	j.Stamp(old, t0.Add(time.Hour))
	if !j.Created.Equal(t0) || j.Version != 4 || !j.NextFire.Equal(t0) || !j.Updated.Equal(t0.Add(time.Hour)) {
		t.Errorf("replacing: %+v", j)
	}
	moved := &sundial.Job{ID: "a", Trigger: sundial.MustEvery(2*time.Minute, &sundial.IntervalOptions{Start: t0})}
	moved.Stamp(old, t0.Add(time.Hour))
	if !moved.NextFire.IsZero() {
		t.Errorf("a changed trigger kept the old next fire %v", moved.NextFire)
	}
	fresh := &sundial.Job{ID: "b", Trigger: trig}
	fresh.Stamp(nil, t0)
	if fresh.Version != 1 || !fresh.Created.Equal(t0) {
		t.Errorf("new: %+v", fresh)
	}
}
