package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func TestAddJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := open(t, newPrefix(t))
	batch := func(ids ...string) []*sundial.Job {
		var out []*sundial.Job
		for _, id := range ids {
			out = append(out, &sundial.Job{ID: id, Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: base})
		}
		return out
	}
	got, err := s.AddJobs(ctx, batch("a", "b", "c"), sundial.ConflictError, base)
	if err != nil || len(got) != 3 || got[2].Version != 1 {
		t.Fatalf("AddJobs = %v, %v", got, err)
	}
	if j, err := s.GetJob(ctx, "b"); err != nil || !j.NextFire.Equal(base) {
		t.Errorf("stored b = %v, %v", j, err)
	}

	bad := batch("d", "e")
	bad[1].Task = ""
	var fe *sundial.FieldError
	if _, err := s.AddJobs(ctx, bad, sundial.ConflictError, base); !errors.As(err, &fe) || fe.Field != "jobs[1].task" {
		t.Errorf("a batch with a bad job: %v, want a field error on jobs[1].task", err)
	}
	if _, err := s.AddJobs(ctx, batch("f", "a"), sundial.ConflictError, base); !errors.Is(err, sundial.ErrConflict) {
		t.Errorf("a batch with an existing ID: %v, want ErrConflict", err)
	}
	if _, err := s.AddJobs(ctx, batch("g", "g"), sundial.ConflictError, base); !errors.Is(err, sundial.ErrConflict) {
		t.Errorf("a batch naming one ID twice: %v, want ErrConflict", err)
	}
	jobs, _ := s.ListJobs(ctx, sundial.JobFilter{})
	if len(jobs) != 3 {
		t.Errorf("%d jobs stored after the refused batches, want the first 3 only", len(jobs))
	}

	kept, err := s.AddJobs(ctx, batch("a", "h"), sundial.ConflictKeepExisting, base.Add(time.Hour))
	if err != nil || kept[0].Version != 1 || kept[1].ID != "h" {
		t.Errorf("keep-existing: %v, %v", kept, err)
	}
	replaced, err := s.AddJobs(ctx, batch("a", "a"), sundial.ConflictReplace, base.Add(time.Hour))
	if err != nil || replaced[0].Version != 2 || replaced[1].Version != 3 {
		t.Errorf("replace, twice in a batch: %v, %v; want versions 2 and 3", replaced, err)
	}
	if j, _ := s.GetJob(ctx, "a"); j.Version != 3 {
		t.Errorf("stored a has version %d, want 3", j.Version)
	}
}

func BenchmarkAddJobs(b *testing.B) {
	ctx := context.Background()
	s := open(b, newPrefix(b))
	trig := sundial.MustEvery(time.Hour, nil)
	b.ResetTimer()
	for n := 0; n < b.N; n += 1000 {
		jobs := make([]*sundial.Job, 0, 1000)
		for i := n; i < n+1000; i++ {
			jobs = append(jobs, &sundial.Job{ID: fmt.Sprint("j", i), Task: "noop", Trigger: trig, NextFire: base})
		}
		if _, err := s.AddJobs(ctx, jobs, sundial.ConflictError, base); err != nil {
			b.Fatal(err)
		}
	}
}
