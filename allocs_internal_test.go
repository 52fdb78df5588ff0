//go:build !race

package sundial

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// TestDecideFiresAllocatesNothing: deciding a job's fire allocates nothing
// of its own when the schedule loop lends it storage (fireInput.fires and
// runs) and makes its runs and IDs; a round of a thousand jobs would make
// thousands of small slices otherwise.
func TestDecideFiresAllocatesNothing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	job := &Job{ID: "j", Task: "t", Trigger: MustEvery(time.Second, nil), NextFire: now.Add(300 * time.Millisecond)}
	run := new(Run)
	fires := make([]time.Time, 0, 64)
	runs := make([]*Run, 0, 4)
	newID, newRun := func() string { return "r" }, func() *Run { return run } // the loop's, once a round
	for _, coalesce := range []CoalescePolicy{CoalesceLatest, CoalesceAll} {
		job.Coalesce = coalesce
		allocs := testing.AllocsPerRun(100, func() {
			c, err := decideFires(fireInput{due: DueJob{Job: job, Token: 1}, now: now, horizon: now.Add(500 * time.Millisecond),
				grace: time.Minute, overdue: 500 * time.Millisecond, newID: newID,
				newRun: newRun, fires: fires, runs: runs})
			if err != nil || len(c.Runs) != 1 {
				t.Fatalf("decided %d runs: %v", len(c.Runs), err)
			}
		})
		if allocs != 0 {
			t.Errorf("coalesce %v: %v allocations a decision, want none", coalesce, allocs)
		}
	}
}

// TestMemoryStoreClaimAllocatesNothing: claiming a job that has run
// before, committing its next fire and handing the claim back
// (releaseDue), as every schedule round does, allocates nothing a job:
// the job's strings are its runs' record's, its trigger and Job a
// released claim's. A job firing every second would otherwise cost a copy
// of its packed form and a trigger every second.
func TestMemoryStoreClaimAllocatesNothing(t *testing.T) {
	m := NewMemoryStore(MemoryConfig{})
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	const jobs = 100
	for i := range jobs {
		id := fmt.Sprintf("job-%03d", i)
		if _, err := m.AddJob(ctx, &Job{ID: id, Task: "t", Trigger: MustEvery(time.Second, nil), NextFire: now}, ConflictError, now); err != nil {
			t.Fatal(err)
		}
		ran := now.Add(-time.Hour)
		addRun(t, m, &Run{ID: "r-" + id, JobID: id, Task: "t", Scheduled: ran, Due: ran, Attempt: 1, State: RunSucceeded, Created: ran})
	}
	commits := make([]FireCommit, jobs)
	round := func() {
		due, err := m.ClaimDueJobs(ctx, JobClaim{Node: "n", Now: now, Horizon: now, Lease: time.Minute, Limit: jobs})
		if err != nil || len(due) != jobs {
			t.Fatalf("claimed %d jobs: %v", len(due), err)
		}
		for i, d := range due {
			commits[i] = FireCommit{JobID: d.Job.ID, Token: d.Token, NextFire: now.Add(time.Second)}
		}
		if _, err := m.CommitFires(ctx, commits, now); err != nil {
			t.Fatal(err)
		}
		m.releaseDue(due)
		now = now.Add(time.Second)
	}
	round() // the spares a round leaves
	if per := testing.AllocsPerRun(20, round) / jobs; per > 0.1 {
		t.Errorf("a round allocated %.2f times a job, want none (a few a round)", per)
	}
}
