package sqlitestore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/sqlitestore"
	"github.com/sundialhq/sundial/sundialtest"
)

// A scheduler keeps its jobs in an SQLite file, so they survive a
// restart: the second process finds the job, and its next fire, where the
// first left them. (The clock is fake so the output is the same every
// time; a service leaves Config.Clock nil.)
func ExampleNew() {
	dir, err := os.MkdirTemp("", "sundial-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sundial.db")
	ctx := context.Background()
	clock := sundialtest.NewClock(time.Date(2024, 3, 8, 23, 0, 0, 0, time.UTC))

	// The first process: open the file (creating the schema) and add a job.
	store, err := sqlitestore.New(ctx, sqlitestore.Config{Path: path})
	if err != nil {
		panic(err)
	}
	sched, err := sundial.New(sundial.Config{Store: store, Clock: clock, NodeID: "first"})
	if err != nil {
		panic(err)
	}
	sched.Handle("reports.daily", func(ctx context.Context, run *sundial.Run) error { return nil })
	_, err = sched.AddJob(ctx, &sundial.Job{ID: "daily-report", Task: "reports.daily",
		Trigger: sundial.MustCron("0 9 * * *", &sundial.CronOptions{TimeZone: "Asia/Seoul"})}, nil)
	if err != nil {
		panic(err)
	}
	store.Close()

	// The next process: the job is still there.
	store, err = sqlitestore.New(ctx, sqlitestore.Config{Path: path})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	job, err := store.GetJob(ctx, "daily-report")
	if err != nil {
		panic(err)
	}
	fmt.Println(job.ID, "runs", job.Task, "next at", job.NextFire.Format(time.RFC3339))
	// Output:
	// daily-report runs reports.daily next at 2024-03-09T00:00:00Z
}

// The store's side of one round of the schedule loop: claim the due jobs,
// then record their runs and next fires in one step.
func ExampleStore_CommitFires() {
	ctx := context.Background()
	store, err := sqlitestore.New(ctx, sqlitestore.Config{Path: sqlitestore.Memory})
	if err != nil {
		panic(err)
	}
	defer store.Close()
	now := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	every := sundial.MustEvery(time.Minute, &sundial.IntervalOptions{Start: now})
	store.AddJob(ctx, &sundial.Job{ID: "poll", Task: "poll", Trigger: every, NextFire: now}, sundial.ConflictError, now)

	due, _ := store.ClaimDueJobs(ctx, sundial.JobClaim{Node: "n1", Now: now, Horizon: now, Lease: 30 * time.Second})
	for _, d := range due {
		run := &sundial.Run{ID: "run-1", JobID: d.Job.ID, Task: d.Job.Task, Scheduled: d.Job.NextFire,
			Due: d.Job.NextFire, Attempt: 1, State: sundial.RunPending}
		next, _ := d.Job.Trigger.Next(d.Job.NextFire)
		res, _ := store.CommitFires(ctx, []sundial.FireCommit{{JobID: d.Job.ID, Token: d.Token,
			Runs: []*sundial.Run{run, run}, NextFire: next}}, now)
		fmt.Println("claimed", d.Job.ID, "and created", len(res[0].Inserted), "run (the duplicate was dropped)")
	}
	job, _ := store.GetJob(ctx, "poll")
	fmt.Println("next fire:", job.NextFire.Format(time.TimeOnly))
	// Output:
	// claimed poll and created 1 run (the duplicate was dropped)
	// next fire: 12:01:00
}
