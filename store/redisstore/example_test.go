package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/store/redisstore"
)

// Two replicas of a service share one Redis. Replica a (say, an API
// handler) adds a job; replica b runs the scheduler, hears of the job
// through pub/sub and runs it when due.
func Example() {
	ctx := context.Background()
	url, prefix := examplePrefix() // a key prefix of its own
	defer deletePrefix(url, prefix)

	a, err := redisstore.New(ctx, redisstore.Config{URL: url, Prefix: prefix})
	if err != nil {
		panic(err)
	}
	defer a.Close()
	b, err := redisstore.New(ctx, redisstore.Config{URL: url, Prefix: prefix})
	if err != nil {
		panic(err)
	}
	defer b.Close()

	sched, err := sundial.New(sundial.Config{Store: b, NodeID: "replica-b"})
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	sched.Handle("greet", func(ctx context.Context, run *sundial.Run) error {
		fmt.Println("greet ran on", run.Node, "with fencing token", run.Fence)
		close(done)
		return nil
	})
	if err := sched.Start(ctx); err != nil {
		panic(err)
	}
	defer sched.Shutdown(ctx)

	at := time.Now().Add(200 * time.Millisecond)
	_, err = a.AddJob(ctx, &sundial.Job{ID: "greet", Task: "greet", Trigger: sundial.MustAt(at, nil), NextFire: at},
		sundial.ConflictError, time.Now())
	if err != nil {
		panic(err)
	}
	<-done
	// Output:
	// greet ran on replica-b with fencing token 1
}

// The store's side of one round of the schedule loop: claim the due jobs,
// then record their runs and next fires in one script. A second run of
// the same fire is dropped: its key (job, scheduled time, attempt) is
// taken.
func ExampleStore_CommitFires() {
	ctx := context.Background()
	url, prefix := examplePrefix()
	defer deletePrefix(url, prefix)
	store, err := redisstore.New(ctx, redisstore.Config{URL: url, Prefix: prefix})
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
		again := run.Clone()
		again.ID = "run-2"
		next, _ := d.Job.Trigger.Next(d.Job.NextFire)
		res, _ := store.CommitFires(ctx, []sundial.FireCommit{{JobID: d.Job.ID, Token: d.Token,
			Runs: []*sundial.Run{run, again}, NextFire: next}}, now)
		fmt.Println("claimed", d.Job.ID, "and created", len(res[0].Inserted), "run (the duplicate was dropped)")
	}
	job, _ := store.GetJob(ctx, "poll")
	fmt.Println("next fire:", job.NextFire.Format(time.TimeOnly))
	// Output:
	// claimed poll and created 1 run (the duplicate was dropped)
	// next fire: 12:01:00
}

// examplePrefix returns the test server's URL and a new key prefix. The
// examples run only when SUNDIAL_TEST_REDIS_URL is set (see TestMain).
func examplePrefix() (url, prefix string) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return os.Getenv(testenv.RedisVar), "example:" + hex.EncodeToString(b[:]) + ":"
}

// deletePrefix deletes the keys under prefix.
func deletePrefix(url, prefix string) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		panic(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, prefix+"*").Result()
	if err == nil && len(keys) > 0 {
		err = rdb.Del(ctx, keys...).Err()
	}
	if err != nil {
		panic(err)
	}
}
