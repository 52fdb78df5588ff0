package sundial_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

// The examples run on a fake clock so their output is the same every time;
// a service leaves Config.Clock nil and gets the real one.

// exampleScheduler starts a scheduler on a fake clock reading start.
func exampleScheduler(start time.Time) (*sundial.Scheduler, *sundialtest.Clock) {
	clock := sundialtest.NewClock(start)
	s, err := sundial.New(sundial.Config{Clock: clock, NodeID: "example"})
	if err != nil {
		panic(err)
	}
	return s, clock
}

// advance moves the fake clock once the scheduler sleeps, then waits for
// a signal from a task or listener.
func advance(clock *sundialtest.Clock, d time.Duration, done <-chan struct{}) {
	clock.WaitForTimers(3, time.Second)
	clock.Advance(d)
	<-done
}

func Example_cronJob() {
	s, clock := exampleScheduler(time.Date(2024, 3, 8, 23, 0, 0, 0, time.UTC)) // Friday 23:00 UTC
	ran := make(chan struct{})
	s.Handle("report", func(ctx context.Context, run *sundial.Run) error {
		fmt.Println("report for", run.Scheduled.In(time.FixedZone("KST", 9*3600)).Format("Mon 2006-01-02 15:04 MST"))
		ran <- struct{}{}
		return nil
	})
	ctx := context.Background()
	job, _ := s.AddJob(ctx, &sundial.Job{ID: "weekday-report", Task: "report",
		Trigger: sundial.MustCron("0 9 * * MON-FRI", &sundial.CronOptions{TimeZone: "Asia/Seoul"})}, nil)
	fmt.Println("first fire:", job.NextFire.UTC().Format(time.RFC3339))
	s.Start(ctx)
	advance(clock, 49*time.Hour, ran)
	s.Shutdown(ctx)
	// Output:
	// first fire: 2024-03-11T00:00:00Z
	// report for Mon 2024-03-11 09:00 KST
}

func Example_intervalJob() {
	start := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	s, clock := exampleScheduler(start)
	ran := make(chan struct{})
	s.Handle("poll", func(ctx context.Context, run *sundial.Run) error {
		fmt.Println("poll at +", run.Scheduled.Sub(start))
		return nil
	})
	// Go on once each run is recorded, so the next fire never finds the
	// previous run still counted as running.
	s.Subscribe(sundial.EventJobExecuted, func(sundial.Event) { ran <- struct{}{} })
	ctx := context.Background()
	s.AddJob(ctx, &sundial.Job{ID: "poll", Task: "poll", Trigger: sundial.MustEvery(30*time.Second, nil)}, nil)
	s.Start(ctx)
	for range 3 {
		advance(clock, 30*time.Second, ran)
	}
	s.Shutdown(ctx)
	// Output:
	// poll at + 30s
	// poll at + 1m0s
	// poll at + 1m30s
}

func Example_oneOffJob() {
	start := time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC)
	s, clock := exampleScheduler(start)
	ran := make(chan struct{})
	type reminder struct {
		User string `json:"user"`
		Text string `json:"text"`
	}
	sundial.HandleFunc(s, "remind", func(ctx context.Context, r reminder) error {
		fmt.Printf("to %s at %s: %s\n", r.User, sundial.RunFromContext(ctx).Scheduled.Format("15:04"), r.Text)
		ran <- struct{}{}
		return nil
	})
	ctx := context.Background()
	s.AddJob(ctx, &sundial.Job{ID: "remind-ada-1", Task: "remind", Args: []byte(`{"user":"ada","text":"stand-up"}`),
		Trigger: sundial.MustAt(start.Add(90*time.Minute), nil)}, nil)
	s.Start(ctx)
	advance(clock, 90*time.Minute, ran)
	s.Shutdown(ctx)
	// Output:
	// to ada at 09:30: stand-up
}

func ExampleScheduler_Subscribe() {
	s, clock := exampleScheduler(time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC))
	s.Handle("sync", func(ctx context.Context, run *sundial.Run) error {
		return errors.New("upstream returned 503")
	})
	alerted := make(chan struct{})
	s.Subscribe(sundial.EventJobError, func(e sundial.Event) {
		fmt.Printf("ALERT %s attempt %d failed: %s\n", e.JobID, e.Attempt, e.Err)
		alerted <- struct{}{}
	})
	ctx := context.Background()
	s.AddJob(ctx, &sundial.Job{ID: "sync", Task: "sync", Trigger: sundial.MustEvery(time.Minute, nil)}, nil)
	s.Start(ctx)
	advance(clock, time.Minute, alerted)
	s.Shutdown(ctx)
	// Output:
	// ALERT sync attempt 1 failed: upstream returned 503
}
