package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/redisstore"
)

// benchJobs adds n jobs due at base, firing every second, in one call.
func benchJobs(b *testing.B, s *redisstore.Store, n int) {
	b.Helper()
	jobs := make([]*sundial.Job, n)
	for i := range jobs {
		jobs[i] = &sundial.Job{ID: fmt.Sprintf("job-%05d", i), Task: "noop", NextFire: base, Overlap: sundial.OverlapQueueAll,
			Trigger: sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: base})}
	}
	if _, err := s.AddJobs(context.Background(), jobs, sundial.ConflictError, base); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkFires is the store's side of a cluster firing jobs, without
// the tasks, as pgstore's: three Stores on one prefix (three nodes), each
// running the schedule loop's and the worker's calls in turn: claim due
// jobs and commit one pending run each with the next fire a second
// later, claim the pending runs, finish them. Each op is one simulated
// second in which every job fires once; fires/s is what the store
// sustains, and the ms/op figures the time the three nodes spent in each
// call.
func BenchmarkFires(b *testing.B) {
	for _, jobs := range []int{1000, 5000} {
		b.Run(fmt.Sprint(jobs), func(b *testing.B) {
			ctx := context.Background()
			prefix := newPrefix(b)
			nodes := make([]*redisstore.Store, 3)
			for i := range nodes {
				nodes[i] = open(b, prefix)
			}
			benchJobs(b, nodes[0], jobs)
			now := base
			fired := 0
			start := time.Now()
			for b.Loop() {
				var wg sync.WaitGroup
				counts := make([]int, len(nodes))
				for i, s := range nodes {
					wg.Go(func() { counts[i] = benchNode(b, ctx, s, fmt.Sprint("node-", i), now) })
				}
				wg.Wait()
				for _, n := range counts {
					fired += n
				}
				now = now.Add(time.Second)
			}
			if fired < jobs*b.N {
				b.Fatalf("%d fires in %d rounds of %d jobs", fired, b.N, jobs)
			}
			b.ReportMetric(float64(fired)/time.Since(start).Seconds(), "fires/s")
			for i, name := range []string{"claim", "commit", "claimruns", "finish"} {
				b.ReportMetric(float64(opTime[i].Swap(0))/1e6/float64(b.N), name+"-ms/op")
			}
		})
	}
}

// opTime sums the time the nodes of BenchmarkFires spend in each call:
// ClaimDueJobs, CommitFires, ClaimRuns, FinishRuns.
var opTime [4]atomic.Int64

// benchNode does one node's share of a simulated second: schedule rounds
// until no job is due, then worker rounds until no run is pending. It
// returns the runs it finished.
func benchNode(b *testing.B, ctx context.Context, s *redisstore.Store, node string, now time.Time) int {
	for {
		t0 := time.Now()
		due, err := s.ClaimDueJobs(ctx, sundial.JobClaim{Node: node, Now: now, Horizon: now, Lease: time.Minute, Limit: 1000})
		if err != nil {
			b.Fatal(err)
		}
		if len(due) == 0 {
			break
		}
		commits := make([]sundial.FireCommit, len(due))
		for i, d := range due {
			run := &sundial.Run{ID: sundial.NewRunID(now), JobID: d.Job.ID, Task: "noop", Scheduled: d.Job.NextFire,
				Due: d.Job.NextFire, Attempt: 1, State: sundial.RunPending, Created: now}
			commits[i] = sundial.FireCommit{JobID: d.Job.ID, Token: d.Token, Runs: []*sundial.Run{run}, NextFire: d.Job.NextFire.Add(time.Second)}
		}
		t1 := time.Now()
		if _, err := s.CommitFires(ctx, commits, now); err != nil {
			b.Fatal(err)
		}
		opTime[0].Add(int64(t1.Sub(t0)))
		opTime[1].Add(int64(time.Since(t1)))
	}
	finished := 0
	for {
		t2 := time.Now()
		runs, err := s.ClaimRuns(ctx, sundial.RunClaim{Node: node, Now: now, Horizon: now, Limit: map[string]int{"default": 1000}})
		if err != nil {
			b.Fatal(err)
		}
		if len(runs) == 0 {
			return finished
		}
		t3 := time.Now()
		opTime[2].Add(int64(t3.Sub(t2)))
		ends := make([]sundial.RunEnd, len(runs))
		for i, r := range runs {
			done := r.Clone()
			done.State, done.Finished = sundial.RunSucceeded, now
			ends[i] = sundial.RunEnd{Run: done}
		}
		for _, err := range s.FinishRuns(ctx, ends) {
			if err != nil {
				b.Fatal(err)
			}
		}
		opTime[3].Add(int64(time.Since(t3)))
		finished += len(runs)
	}
}
