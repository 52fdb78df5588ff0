// Package sqlitebench measures sundial's scheduler on the SQLite store
// (store/sqlitestore), run by hand:
//
//	cd bench && go test -run XXX -bench . -benchtime 1x ./sqlitebench
//
// BenchmarkFires runs jobs firing every second (-jobs, default 1,000,
// 2,000 and 5,000), phases spread over the second, for -span (default 20 s) and reports fires/s, fires not run in
// the window, and lateness; BenchmarkRestart times a scheduler's Start
// over a file holding 100,000 jobs due now, and until the last of them
// starts; BenchmarkIdleMemory reports the process heap over files holding
// 10,000 and 1,000,000 jobs not yet due.
package sqlitebench

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/sqlitestore"
)

var (
	span      = flag.Duration("span", 20*time.Second, "BenchmarkFires: the measured window")
	lookahead = flag.Duration("lookahead", 0, "the scheduler's Config.Lookahead (0: its default, 1s)")
	jobLease  = flag.Duration("joblease", 0, "the scheduler's Config.JobLease (0: its default)")
	jobCounts = flag.String("jobs", "1000,2000,5000", "BenchmarkFires: the numbers of jobs firing every second, comma-separated")
)

// counts parses -jobs.
func counts(b *testing.B) []int {
	var out []int
	for _, f := range strings.Split(*jobCounts, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("-jobs: %q is not a positive number of jobs", f)
		}
		out = append(out, n)
	}
	return out
}

func open(b *testing.B, path string) *sqlitestore.Store {
	st, err := sqlitestore.New(context.Background(), sqlitestore.Config{Path: path})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// fill adds n jobs to st directly (the store, not the scheduler, so the
// fill is not what is measured), every interval, first fire at first(i),
// a thousand per transaction.
func fill(b *testing.B, st *sqlitestore.Store, n int, every time.Duration, first func(i int) time.Time) {
	ctx := context.Background()
	for from := 0; from < n; from += 1000 {
		var jobs []*sundial.Job
		for i := from; i < min(from+1000, n); i++ {
			at := first(i)
			trig := sundial.MustEvery(every, &sundial.IntervalOptions{Start: at})
			jobs = append(jobs, &sundial.Job{ID: fmt.Sprintf("j%07d", i), Name: fmt.Sprintf("j%07d", i), Task: "noop", Trigger: trig, NextFire: at})
		}
		if _, err := st.AddJobs(ctx, jobs, sundial.ConflictError, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// lateness collects start − scheduled for fires scheduled before end.
type lateness struct {
	mu   sync.Mutex
	end  time.Time
	late []time.Duration
}

func (l *lateness) task(ctx context.Context, r *sundial.Run) error {
	d := time.Since(r.Scheduled)
	l.mu.Lock()
	if l.end.IsZero() || r.Scheduled.Before(l.end) {
		l.late = append(l.late, d)
	}
	l.mu.Unlock()
	return nil
}

func (l *lateness) report(b *testing.B) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.late) == 0 {
		b.Fatal("nothing ran")
	}
	sort.Slice(l.late, func(i, j int) bool { return l.late[i] < l.late[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(l.late[len(l.late)/2]), "p50-ms")
	b.ReportMetric(ms(l.late[len(l.late)*99/100]), "p99-ms")
	b.ReportMetric(ms(l.late[len(l.late)-1]), "max-ms")
}

func newScheduler(b *testing.B, st sundial.Store, l *lateness) *sundial.Scheduler {
	s, err := sundial.New(sundial.Config{Store: st, NodeID: "bench", Executors: map[string]int{"default": 64}, Lookahead: *lookahead, JobLease: *jobLease})
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Handle("noop", l.task); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkFires(b *testing.B) {
	for _, jobs := range counts(b) {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			st := open(b, filepath.Join(b.TempDir(), "fires.db"))
			defer st.Close()
			start := time.Now().Truncate(time.Second).Add(3 * time.Second)
			fill(b, st, jobs, time.Second, func(i int) time.Time {
				return start.Add(time.Duration(i) * time.Second / time.Duration(jobs))
			})
			if time.Until(start) < time.Second {
				b.Fatalf("filling took too long: %v left", time.Until(start))
			}
			l := &lateness{end: start.Add(*span)}
			s := newScheduler(b, st, l)
			ctx := context.Background()
			if err := s.Start(ctx); err != nil {
				b.Fatal(err)
			}
			time.Sleep(time.Until(start.Add(*span + 2*time.Second)))
			s.Shutdown(ctx)
			want := jobs * int(*span/time.Second)
			b.ReportMetric(float64(len(l.late))/span.Seconds(), "fires/s")
			b.ReportMetric(float64(want-len(l.late)), "not-run")
			l.report(b)
		})
	}
}

func BenchmarkRestart(b *testing.B) {
	const jobs = 100000
	path := filepath.Join(b.TempDir(), "restart.db")
	st := open(b, path)
	due := time.Now().Add(-time.Second)
	fill(b, st, jobs, time.Hour, func(int) time.Time { return due })
	st.Close()

	t0 := time.Now()
	st = open(b, path)
	defer st.Close()
	l := &lateness{}
	s := newScheduler(b, st, l)
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		b.Fatal(err)
	}
	started := time.Since(t0)
	for {
		l.mu.Lock()
		n := len(l.late)
		l.mu.Unlock()
		if n >= jobs || time.Since(t0) > 5*time.Minute {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	all := time.Since(t0)
	s.Shutdown(ctx)
	b.ReportMetric(float64(started.Milliseconds()), "open+start-ms")
	b.ReportMetric(float64(all.Milliseconds()), "until-all-ran-ms")
}

func BenchmarkIdleMemory(b *testing.B) {
	for _, jobs := range []int{10000, 1000000} {
		b.Run(fmt.Sprintf("jobs=%d", jobs), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "idle.db")
			st := open(b, path)
			next := time.Now().Add(30 * 24 * time.Hour) // due next month
			fill(b, st, jobs, 24*time.Hour, func(int) time.Time { return next })
			st.Close()

			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			st = open(b, path)
			defer st.Close()
			s := newScheduler(b, st, &lateness{})
			ctx := context.Background()
			if err := s.Start(ctx); err != nil {
				b.Fatal(err)
			}
			time.Sleep(3 * time.Second)
			runtime.GC()
			runtime.ReadMemStats(&after)
			s.Shutdown(ctx)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MiB")
		})
	}
}
