package alert

import (
	"context"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

func TestDeadMansSwitchFiresWhenARunNeverStarts(t *testing.T) {
	f := setup(t, Config{Grace: time.Minute}, nil)
	due := start.Add(10 * time.Second)
	e := f.event(sundial.EventJobSubmitted, "nightly", "R1", due)
	e.Run.Due, e.Run.Started = due.Add(5*time.Second), time.Time{} // 5s of jitter
	f.a.Listen(e)
	f.advance(time.Minute + 14*time.Second) // grace ends at due + jitter + 1m = 12:01:15
	f.advance(time.Second)
	got := f.text(t)
	wantContains(t, got, "Job nightly missed its fire at 2024-01-01 12:00:10 UTC\n",
		"no run had started by 2024-01-01 12:01:15 UTC, 1m0s after it was due")
	f.quiet(t)
}

func TestDeadMansSwitchQuiet(t *testing.T) {
	due := start.Add(10 * time.Second)
	tests := []struct {
		name  string
		cfg   Config
		after sundial.EventType // what follows the submission; 0: nothing
	}{
		{"the run started", Config{}, sundial.EventRunStarted},
		{"the fire was skipped", Config{}, sundial.EventJobSkipped},
		{"max instances", Config{}, sundial.EventJobMaxInstances},
		{"switch off", Config{Grace: -1}, 0},
		{"switch off for the job", Config{Jobs: map[string]JobRules{"nightly": {Grace: -1}}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, tt.cfg, nil)
			f.a.Listen(f.event(sundial.EventJobSubmitted, "nightly", "R1", due))
			f.advance(30 * time.Second)
			if tt.after != 0 {
				f.a.Listen(f.event(tt.after, "nightly", "R1", due))
			}
			f.advance(time.Hour)
			f.quiet(t)
		})
	}
}

func TestRetryIsExpectedAgain(t *testing.T) {
	f := setup(t, Config{Grace: time.Minute}, nil)
	f.a.Listen(f.event(sundial.EventJobSubmitted, "j", "R1", start))
	f.a.Listen(f.event(sundial.EventRunStarted, "j", "R1", start))
	retry := f.event(sundial.EventRunRetrying, "j", "R2", start)
	retry.Attempt, retry.Run.Due, retry.Run.Started = 2, start.Add(10*time.Minute), time.Time{}
	f.a.Listen(retry)
	f.advance(10 * time.Minute) // the retry's backoff
	f.advance(time.Minute)
	wantContains(t, f.text(t), "Job j missed its fire at 2024-01-01 12:00:00 UTC\n", "job j, run R2, attempt 2\n",
		"no run had started by 2024-01-01 12:11:00 UTC, 1m0s after it was due")
}

// TestMissedEventOncePerFire: the scheduler's EventJobMissed is reported,
// and the dead-man's switch does not report the same fire again.
func TestMissedEventOncePerFire(t *testing.T) {
	f := setup(t, Config{RateLimit: -1}, nil)
	f.a.Listen(f.event(sundial.EventJobSubmitted, "j", "R1", start))
	f.a.Listen(f.event(sundial.EventJobMissed, "j", "R1", start))
	wantContains(t, f.text(t), "Job j missed its fire at 2024-01-01 12:00:00 UTC\n", "recorded missed")
	f.a.Listen(f.event(sundial.EventJobMissed, "j", "R1", start))
	f.advance(time.Hour)
	f.quiet(t)
}

// TestDeadMansSwitchWithoutScheduler: a job in the store whose fire no
// scheduler turns into a run (the node that should run it is down) is
// reported from the job list alone.
func TestDeadMansSwitchWithoutScheduler(t *testing.T) {
	f := setup(t, Config{Grace: time.Minute, PollInterval: 30 * time.Second}, nil)
	s, err := sundial.New(sundial.Config{Clock: f.clock, Role: sundial.RoleClient})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Handle("backup", func(context.Context, *sundial.Run) error { return nil }); err != nil {
		t.Fatal(err)
	}
	addJob(t, s, &sundial.Job{ID: "backup", Task: "backup", Trigger: sundial.MustAt(start.Add(5*time.Minute), nil)})
	f.a.Attach(s)
	f.a.sync() // the first poll
	for range 11 {
		f.advance(30 * time.Second) // polls, and nothing fires: 12:05:30
	}
	f.advance(30 * time.Second) // 12:06:00, the grace ends
	got := f.text(t)
	wantContains(t, got, "Job backup missed its fire at 2024-01-01 12:05:00 UTC\n",
		"no run had started by 2024-01-01 12:06:00 UTC, 1m0s after it was due: no scheduler created its run")
	f.advance(time.Hour) // the stale NextFire stays in the list: reported once
	f.quiet(t)
}

func TestDeadMansSwitchWithdrawn(t *testing.T) {
	for _, change := range []string{"removed", "paused", "rescheduled"} {
		t.Run(change, func(t *testing.T) {
			f := setup(t, Config{Grace: time.Minute, PollInterval: 30 * time.Second}, nil)
			s, err := sundial.New(sundial.Config{Clock: f.clock, Role: sundial.RoleClient})
			if err != nil {
				t.Fatal(err)
			}
			_ = s.Handle("t", func(context.Context, *sundial.Run) error { return nil })
			addJob(t, s, &sundial.Job{ID: "j", Task: "t", Trigger: sundial.MustAt(start.Add(time.Minute), nil)})
			f.a.Attach(s)
			f.a.sync()
			ctx := context.Background()
			switch change {
			case "removed":
				err = s.RemoveJob(ctx, "j")
			case "paused":
				_, err = s.PauseJob(ctx, "j")
			case "rescheduled":
				_, err = s.Reschedule(ctx, "j", sundial.MustAt(start.Add(48*time.Hour), nil))
			}
			if err != nil {
				t.Fatal(err)
			}
			for range 10 {
				f.advance(30 * time.Second)
			}
			f.quiet(t)
		})
	}
}

// TestDeadMansSwitchQuietWithScheduler runs a job every minute on a real
// scheduler: its fires start on time, and nothing is reported.
func TestDeadMansSwitchQuietWithScheduler(t *testing.T) {
	f := setup(t, Config{Grace: 30 * time.Second, PollInterval: 20 * time.Second}, nil)
	s := newScheduler(t, f.clock)
	_ = s.Handle("tick", func(context.Context, *sundial.Run) error { return nil })
	rec := sundialtest.Record(t, s, sundial.EventJobExecuted)
	f.a.Attach(s)
	addJob(t, s, &sundial.Job{ID: "tick", Task: "tick", Trigger: sundial.MustEvery(time.Minute, nil)})
	for range 3 { // 4 timers: the scheduler's 3 loops and the alerter's
		rec.AdvanceUntil(t, f.clock, 4, time.Second, sundial.EventJobExecuted, wait)
	}
	f.a.sync()
	f.quiet(t)
}

func TestManualRunsAreNotExpected(t *testing.T) {
	f := setup(t, Config{}, nil)
	e := f.event(sundial.EventJobSubmitted, "j", "R1", start)
	e.Run.Manual = true
	f.a.Listen(e)
	f.advance(time.Hour)
	f.quiet(t)
}
