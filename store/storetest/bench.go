package storetest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// BenchmarkFires is a store's side of a cluster firing jobs, without the
// tasks: the Stores open returns (for example three, on one database, as
// three nodes) each run the schedule loop's and the worker's calls in
// turn: claim due jobs and commit one pending run each with the next fire
// a second later, claim the pending runs, finish them. Each op is one
// simulated second in which every job fires once; fires/s is what the
// store sustains, and the ms/op figures the time the nodes spent in each
// call. Call it from a store's Benchmark function:
//
//	func BenchmarkFires(b *testing.B) { storetest.BenchmarkFires(b, openThree) }
func BenchmarkFires(b *testing.B, open func(b *testing.B) []sundial.Store) {
	for _, jobs := range []int{1000, 5000} {
		b.Run(fmt.Sprint(jobs), func(b *testing.B) {
			ctx := context.Background()
			nodes := open(b)
			all := make([]*sundial.Job, jobs)
			for i := range all {
				all[i] = &sundial.Job{ID: fmt.Sprintf("job-%05d", i), Task: "noop", NextFire: base, Overlap: sundial.OverlapQueueAll,
					Trigger: sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: base})}
			}
			if err := addJobs(nodes[0], all, base); err != nil {
				b.Fatal(err)
			}
			var times opTimes
			now := base
			fired := 0
			start := time.Now()
			for b.Loop() {
				var wg sync.WaitGroup
				counts := make([]int, len(nodes))
				for i, s := range nodes {
					wg.Go(func() { counts[i] = benchNode(b, ctx, s, fmt.Sprint("node-", i), now, &times) })
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
				b.ReportMetric(float64(times[i].Load())/1e6/float64(b.N), name+"-ms/op")
			}
		})
	}
}

// opTimes sums the time the nodes spend in each call: ClaimDueJobs,
// CommitFires, ClaimRuns, FinishRuns.
type opTimes [4]atomic.Int64

// benchNode does one node's share of a simulated second: schedule rounds
// until no job is due, then worker rounds until no run is pending. It
// returns the runs it finished.
func benchNode(b *testing.B, ctx context.Context, s sundial.Store, node string, now time.Time, times *opTimes) int {
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
		times[0].Add(int64(t1.Sub(t0)))
		times[1].Add(int64(time.Since(t1)))
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
		times[2].Add(int64(t3.Sub(t2)))
		ends := make([]sundial.RunEnd, len(runs))
		for i, r := range runs {
			done := r.Clone()
			done.State, done.Finished = sundial.RunSucceeded, now
			ends[i] = sundial.RunEnd{Run: done}
		}
		if f, ok := s.(sundial.RunFinisher); ok {
			for _, err := range f.FinishRuns(ctx, ends) {
				if err != nil {
					b.Fatal(err)
				}
			}
		} else {
			for _, e := range ends {
				if err := s.FinishRun(ctx, e.Run, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		times[3].Add(int64(time.Since(t3)))
		finished += len(runs)
	}
}
