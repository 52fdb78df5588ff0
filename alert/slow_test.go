package alert

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

func TestP95(t *testing.T) {
	tests := []struct {
		durations []int // seconds
		want      int
	}{
		{[]int{7}, 7},
		{[]int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, 19},
		{[]int{20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 19},
		{[]int{1, 1, 1, 1, 100}, 100},
	}
	for _, tt := range tests {
		var h history
		for _, d := range tt.durations {
			h.add(time.Duration(d)*time.Second, 20)
		}
		if got := h.p95(); got != time.Duration(tt.want)*time.Second {
			t.Errorf("p95(%v) = %v, want %ds", tt.durations, got, tt.want)
		}
	}
}

func TestHistoryKeepsTheLatest(t *testing.T) {
	var h history
	for i := 1; i <= 25; i++ {
		h.add(time.Duration(i), 5)
	}
	if fmt.Sprint(h.d) != "[21ns 22ns 23ns 24ns 25ns]" {
		t.Errorf("window %v, want the last 5 durations", h.d)
	}
}

// ran feeds the alerter n finished runs of job lasting d each.
func (f *fixture) ran(job string, n int, d time.Duration) {
	for i := range n {
		e := f.event(sundial.EventJobExecuted, job, fmt.Sprintf("%s-past-%d", job, i), start)
		e.Duration = d
		f.a.Listen(e)
	}
}

func TestRelativeSlowWhileRunning(t *testing.T) {
	f := setup(t, Config{SlowFactor: 3, SlowSamples: 5}, nil)
	f.ran("etl", 5, 10*time.Second) // p95 10s: slow after 30s
	f.a.Listen(f.event(sundial.EventRunStarted, "etl", "R1", start))
	f.advance(29 * time.Second)
	f.advance(2 * time.Second) // still running, no end event
	got := f.text(t)
	wantContains(t, got, "Job etl is slow: running for 31s\n", "run R1",
		"running longer than 3 × its p95 of 10s (over its last 5 runs): threshold 30s")
	f.a.Listen(f.event(sundial.EventRunSlow, "etl", "R1", start)) // the absolute threshold too: one alert per run
	f.quiet(t)
}

func TestRelativeSlowQuiet(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		past int // runs of history
		end  bool
	}{
		{"the run ended in time", Config{SlowFactor: 2}, 5, true},
		{"too little history", Config{SlowFactor: 2}, 4, false},
		{"relative slowness off", Config{}, 5, false},
		{"off for the job", Config{SlowFactor: 2, Jobs: map[string]JobRules{"etl": {SlowFactor: -1}}}, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, tt.cfg, nil)
			f.ran("etl", tt.past, 10*time.Second)
			f.a.Listen(f.event(sundial.EventRunStarted, "etl", "R1", start))
			f.advance(15 * time.Second)
			if tt.end {
				e := f.event(sundial.EventJobExecuted, "etl", "R1", start)
				e.Duration = 15 * time.Second
				f.a.Listen(e)
			}
			f.advance(time.Hour)
			f.quiet(t)
		})
	}
}

func TestSlowMinFloor(t *testing.T) {
	f := setup(t, Config{SlowFactor: 2, SlowMin: time.Minute}, nil)
	f.ran("fast", 5, 100*time.Millisecond)
	f.a.Listen(f.event(sundial.EventRunStarted, "fast", "R1", start))
	f.advance(59 * time.Second)
	f.advance(time.Second)
	wantContains(t, f.text(t), "Job fast is slow: running for 1m0s\n", "threshold 1m0s")
}

// TestSlowFromScheduler runs a job past its SlowAfter on a real scheduler
// and a fake clock: the alert arrives while the task still runs.
func TestSlowFromScheduler(t *testing.T) {
	f := setup(t, Config{}, nil)
	s := newScheduler(t, f.clock)
	release := make(chan struct{})
	defer close(release)
	if err := s.Handle("export", func(ctx context.Context, r *sundial.Run) error { <-release; return nil }); err != nil {
		t.Fatal(err)
	}
	addJob(t, s, &sundial.Job{ID: "export", Task: "export", SlowAfter: time.Minute})
	f.a.Attach(s)
	rec := sundialtest.Record(t, s, sundial.EventRunStarted)
	if _, err := s.RunNow(context.Background(), "export"); err != nil {
		t.Fatal(err)
	}
	rec.Wait(t, sundial.EventRunStarted, wait)
	f.clock.Advance(time.Minute)
	got := f.text(t)
	wantContains(t, got, "Job export is slow: running for 1m0s\n", "slow-run threshold of 1m0s")
	if r, err := s.GetRun(context.Background(), runID(t, got)); err != nil || r.State != sundial.RunRunning {
		t.Errorf("the run is %v (%v) at the alert, want running", r.State, err)
	}
	if !strings.Contains(got, "node test-node") {
		t.Errorf("the node is missing:\n%s", got)
	}
}
