package sundial_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// BenchmarkAddJob measures registering hourly interval jobs (none fire)
// and the heap each one holds: the memory store's cost per idle job.
func BenchmarkAddJob(b *testing.B) {
	s, err := sundial.New(sundial.Config{NodeID: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	s.Handle("noop", noop)
	ctx := context.Background()
	trig := sundial.MustEvery(time.Hour, nil)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.AddJob(ctx, &sundial.Job{ID: fmt.Sprintf("job-%07d", i), Task: "noop", Trigger: trig}, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "heap-B/job")
	runtime.KeepAlive(s)
}

// BenchmarkFires runs jobs that fire every second with no-op tasks on the
// real clock and reports fires/s, missed fires and lateness percentiles.
// Run with -benchtime=1x; -jobs sets the count.
func BenchmarkFires(b *testing.B) {
	for _, jobs := range []int{1000, 10000, 50000} {
		for _, spread := range []bool{true, false} {
			name := fmt.Sprintf("jobs=%d/aligned", jobs)
			if spread {
				name = fmt.Sprintf("jobs=%d/spread", jobs)
			}
			b.Run(name, func(b *testing.B) { benchFires(b, jobs, spread, 5*time.Second) })
		}
	}
}

// benchFires runs jobs firing every second: all at the same instant
// (aligned), or with their phases spread evenly over the second, as jobs
// added at different moments are.
func benchFires(b *testing.B, jobs int, spread bool, span time.Duration) {
	s, err := sundial.New(sundial.Config{NodeID: "bench", Executors: map[string]int{"default": benchPool}})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	missed := 0
	var start time.Time // set before Start; read only by tasks after
	// Each fire's lateness in its own slot (second, job), so that tasks
	// record it without a lock: a lock they all take measures the lock.
	seconds := int(span / time.Second)
	slots := make([]time.Duration, seconds*jobs)
	for i := range slots {
		slots[i] = -1
	}
	s.Handle("noop", func(ctx context.Context, r *sundial.Run) error {
		d := time.Since(r.Scheduled)
		sec := int(r.Scheduled.Sub(start) / time.Second)
		if sec >= seconds { // after the measured window
			return nil
		}
		job, _ := strconv.Atoi(r.JobID[1:])
		slots[sec*jobs+job] = d
		return nil
	})
	kinds := map[string]int{}
	s.Subscribe(sundial.EventJobMissed|sundial.EventJobSkipped|sundial.EventJobMaxInstances, func(e sundial.Event) {
		mu.Lock()
		missed++
		kinds[e.Type.String()]++
		mu.Unlock()
	})
	ctx := context.Background()
	start = time.Now().Truncate(time.Second).Add(2 * time.Second)
	for i := range jobs {
		at := start
		if spread {
			at = start.Add(time.Duration(i) * time.Second / time.Duration(jobs))
		}
		trig := sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: at})
		s.AddJob(ctx, &sundial.Job{ID: fmt.Sprintf("j%06d", i), Task: "noop", Trigger: trig}, nil)
	}
	s.Start(ctx)
	time.Sleep(time.Until(start.Add(span + 2*time.Second))) // the window's last fires start late
	s.Shutdown(ctx)
	mu.Lock()
	defer mu.Unlock()
	late := slices.DeleteFunc(slots, func(d time.Duration) bool { return d < 0 })
	slices.Sort(late)
	if len(late) == 0 {
		b.Fatal("nothing ran")
	}
	b.ReportMetric(float64(len(late))/span.Seconds(), "fires/s")
	b.ReportMetric(float64(jobs*int(span/time.Second)-len(late)), "not-run")
	if missed > 0 {
		b.Logf("recorded missed or skipped: %v", kinds)
	}
	b.ReportMetric(float64(late[len(late)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(late[len(late)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(late[len(late)-1].Microseconds())/1000, "max-ms")
}

var benchPool = 64

// BenchmarkMemoryStoreFire measures the memory store's share of a fire:
// claim the due job, commit its run and next fire, claim the run, finish
// it, for 1,000 jobs a round, in steady state (every job's history at its
// bound). One op is one fire.
func BenchmarkMemoryStoreFire(b *testing.B) {
	const jobs = 1000
	m := sundial.NewMemoryStore(sundial.MemoryConfig{MaxRunsPerJob: 10})
	ctx := context.Background()
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range jobs {
		j := &sundial.Job{ID: fmt.Sprintf("job-%04d", i), Task: "t", Trigger: sundial.MustEvery(time.Second, nil), NextFire: now}
		if _, err := m.AddJob(ctx, j, sundial.ConflictError, now); err != nil {
			b.Fatal(err)
		}
	}
	seq := 0
	round := func() {
		due, err := m.ClaimDueJobs(ctx, sundial.JobClaim{Node: "n", Now: now, Horizon: now, Lease: time.Minute, Limit: jobs})
		if err != nil || len(due) != jobs {
			b.Fatalf("claimed %d jobs: %v", len(due), err)
		}
		commits := make([]sundial.FireCommit, len(due))
		for i, d := range due {
			seq++
			r := &sundial.Run{ID: fmt.Sprintf("r%09d", seq), JobID: d.Job.ID, Task: "t", Scheduled: now, Due: now,
				Attempt: 1, State: sundial.RunPending, Created: now}
			commits[i] = sundial.FireCommit{JobID: d.Job.ID, Token: d.Token, Runs: []*sundial.Run{r}, NextFire: now.Add(time.Second)}
		}
		if _, err := m.CommitFires(ctx, commits, now); err != nil {
			b.Fatal(err)
		}
		runs, err := m.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Now: now, Horizon: now, Limit: map[string]int{"default": jobs}})
		if err != nil || len(runs) != jobs {
			b.Fatalf("claimed %d runs: %v", len(runs), err)
		}
		ends := make([]sundial.RunEnd, len(runs))
		for i, r := range runs {
			r.State, r.Finished = sundial.RunSucceeded, now
			ends[i] = sundial.RunEnd{Run: r}
		}
		for _, err := range m.FinishRuns(ctx, ends) {
			if err != nil {
				b.Fatal(err)
			}
		}
		now = now.Add(time.Second)
	}
	for range 20 { // fill every job's history to its bound
		round()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i += jobs {
		round()
	}
}
