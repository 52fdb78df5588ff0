package sqlitestore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/sqlitestore"
)

// BenchmarkCommitFires measures one schedule round on a file: claim a batch
// of 1,000 due jobs, then commit one run and the next fire for each. Every
// round makes all of them due again a minute later. The runs are recorded
// skipped rather than pending: no worker drains them here, and a backlog
// of pending runs would make each round count more than the one before.
func BenchmarkCommitFires(b *testing.B) {
	const batch = 1000
	ctx := context.Background()
	s := open(b, sqlitestore.Config{Path: tempPath(b)})
	for i := range batch {
		j := &sundial.Job{ID: fmt.Sprintf("job-%04d", i), Task: "noop", NextFire: base,
			Trigger: sundial.MustEvery(time.Minute, &sundial.IntervalOptions{Start: base})}
		if _, err := s.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
			b.Fatal(err)
		}
	}
	now := base
	var claiming, committing time.Duration
	b.ReportAllocs()
	for b.Loop() {
		start := time.Now()
		due, err := s.ClaimDueJobs(ctx, sundial.JobClaim{Node: "n", Now: now, Horizon: now, Lease: time.Minute, Limit: batch})
		if err != nil || len(due) != batch {
			b.Fatalf("ClaimDueJobs = %d jobs, %v", len(due), err)
		}
		decided := commits(due, now)
		claimed := time.Now()
		res, err := s.CommitFires(ctx, decided, now)
		if err != nil || len(res) != batch || len(res[0].Inserted) != 1 {
			b.Fatalf("CommitFires = %d results, %v", len(res), err)
		}
		claiming, committing = claiming+claimed.Sub(start), committing+time.Since(claimed)
		now = now.Add(time.Minute)
	}
	b.ReportMetric(float64(claiming.Milliseconds())/float64(b.N), "claim-ms/op")
	b.ReportMetric(float64(committing.Milliseconds())/float64(b.N), "commit-ms/op")
}

// commits decides one run per due job and the next fire a minute later,
// as the schedule loop would.
func commits(due []sundial.DueJob, now time.Time) []sundial.FireCommit {
	out := make([]sundial.FireCommit, len(due))
	for i, d := range due {
		run := &sundial.Run{ID: sundial.NewRunID(now), JobID: d.Job.ID, Task: d.Job.Task,
			Scheduled: d.Job.NextFire, Due: d.Job.NextFire, Attempt: 1, State: sundial.RunSkipped,
			Reason: "benchmark", Finished: now}
		out[i] = sundial.FireCommit{JobID: d.Job.ID, Token: d.Token, Runs: []*sundial.Run{run},
			NextFire: d.Job.NextFire.Add(time.Minute)}
	}
	return out
}

// TestCancelledContext checks that every kind of call gives up on a
// cancelled context with an error that matches it.
func TestCancelledContext(t *testing.T) {
	t.Parallel()
	s := open(t, sqlitestore.Config{Path: tempPath(t)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, err := range map[string]error{
		"GetJob":       second(s.GetJob(ctx, "a")),
		"ListJobs":     second(s.ListJobs(ctx, sundial.JobFilter{})),
		"NextFireTime": second(s.NextFireTime(ctx)),
		"ClaimDueJobs": second(s.ClaimDueJobs(ctx, sundial.JobClaim{Node: "n", Now: base, Horizon: base})),
		"CommitFires":  second(s.CommitFires(ctx, nil, base)),
		"ClaimRuns":    second(s.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Limit: map[string]int{"default": 1}})),
		"ListRuns":     second(s.ListRuns(ctx, sundial.RunFilter{})),
		"RecoverRuns":  second(s.RecoverRuns(ctx, base)),
		"RemoveJob":    s.RemoveJob(ctx, "a"),
		"Migrate":      s.Migrate(ctx),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }
