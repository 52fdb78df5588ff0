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
