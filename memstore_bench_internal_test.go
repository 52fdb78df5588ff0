package sundial

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkMemoryStoreFire measures the memory store's share of a fire:
// claim the due job, commit its run and next fire as the schedule loop
// does (1,000 jobs a claim, with the claim's slot, handing the claim
// back), claim the run, finish it, for every job a round, in steady
// state (every job's history at its bound, the archive at MaxRuns for the
// larger count). One op is one fire. At 1,000 jobs the store's tables
// stay in the CPU's caches; at 50,000, as in the scheduler table's second
// size, most lookups miss them.
func BenchmarkMemoryStoreFire(b *testing.B) {
	for _, jobs := range []int{1000, 50000} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) { benchMemoryStoreFire(b, jobs) })
	}
}

func benchMemoryStoreFire(b *testing.B, jobs int) {
	m := NewMemoryStore(MemoryConfig{MaxRunsPerJob: 10})
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range jobs {
		j := &Job{ID: fmt.Sprintf("job-%04d", i), Task: "t", Trigger: MustEvery(time.Second, nil), NextFire: now}
		if _, err := m.AddJob(ctx, j, ConflictError, now); err != nil {
			b.Fatal(err)
		}
	}
	seq := 0
	const batch = 1000 // Config.ClaimBatch's default
	round := func() {
		for claimed := 0; claimed < jobs; claimed += batch {
			due, err := m.ClaimDueJobs(ctx, JobClaim{Node: "n", Now: now, Horizon: now, Lease: time.Minute, Limit: batch})
			if err != nil || len(due) != min(batch, jobs-claimed) {
				b.Fatalf("claimed %d jobs: %v", len(due), err)
			}
			commits := make([]FireCommit, len(due))
			for i, d := range due {
				seq++
				r := &Run{ID: fmt.Sprintf("r%09d", seq), JobID: d.Job.ID, Task: "t", Scheduled: now, Due: now,
					Attempt: 1, State: RunPending, Created: now}
				commits[i] = FireCommit{JobID: d.Job.ID, Token: d.Token, Runs: []*Run{r}, NextFire: now.Add(time.Second), slot: d.slot}
			}
			if _, err := m.CommitFires(ctx, commits, now); err != nil {
				b.Fatal(err)
			}
			m.releaseDue(due) // as the schedule loop hands its round's claim back
		}
		runs, err := m.ClaimRuns(ctx, RunClaim{Node: "n", Now: now, Horizon: now, Limit: map[string]int{"default": jobs}})
		if err != nil || len(runs) != jobs {
			b.Fatalf("claimed %d runs: %v", len(runs), err)
		}
		ends := make([]RunEnd, len(runs))
		for i, r := range runs {
			r.State, r.Finished = RunSucceeded, now
			ends[i] = RunEnd{Run: r}
		}
		for _, err := range m.FinishRuns(ctx, ends) {
			if err != nil {
				b.Fatal(err)
			}
		}
		now = now.Add(time.Second)
	}
	for range 20 { // fill every job's history to its bound, or the archive
		round()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += jobs {
		round()
	}
}

// BenchmarkMemoryStoreListRuns measures a page of 100 runs, newest first,
// from a history of 100,000 (MaxRuns' default) across 1,000 jobs, as a
// dashboard reads it: the first page, and one deep in the listing.
func BenchmarkMemoryStoreListRuns(b *testing.B) {
	m := NewMemoryStore(MemoryConfig{MaxRunsPerJob: 1000})
	ctx := context.Background()
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var runs []*Run
	for i := range 100000 {
		at := base.Add(time.Duration(i) * time.Second)
		runs = append(runs, &Run{ID: fmt.Sprintf("r%06d", i), JobID: fmt.Sprintf("job-%03d", i%1000), Task: "t",
			Scheduled: at, Due: at, Attempt: 1, State: RunSucceeded, Created: at, Finished: at})
	}
	if got, err := m.AddRuns(ctx, runs); err != nil || len(got) != len(runs) {
		b.Fatalf("added %d runs: %v", len(got), err)
	}
	for _, page := range []struct {
		name   string
		before string
	}{{"first", ""}, {"deep", "r050000"}} {
		b.Run(page.name, func(b *testing.B) {
			for b.Loop() {
				got, err := m.ListRuns(ctx, RunFilter{Limit: 100, Before: page.before})
				if err != nil || len(got) != 100 {
					b.Fatalf("listed %d runs: %v", len(got), err)
				}
			}
		})
	}
}
