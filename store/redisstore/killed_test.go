package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sundialhq/sundial"
)

// errLog is a slog.Handler that keeps the errors logged.
type errLog struct {
	mu   *sync.Mutex
	errs *[]error
}

func newErrLog() errLog { return errLog{mu: &sync.Mutex{}, errs: new([]error)} }

func (h errLog) Enabled(context.Context, slog.Level) bool { return true }
func (h errLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h errLog) WithGroup(string) slog.Handler            { return h }
func (h errLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && a.Key == "err" {
			h.mu.Lock()
			*h.errs = append(*h.errs, err)
			h.mu.Unlock()
		}
		return true
	})
	return nil
}

func (h errLog) all() []error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]error(nil), *h.errs...)
}

// TestConnectionsKilled runs two schedulers on one prefix while their
// connections to Redis are killed again and again (CLIENT KILL), as a
// Redis restart would cut them. Calls fail with the Store's own errors,
// none of go-redis's types, and work again on the next try. Every fire is
// accounted for by one first attempt, none runs twice, and the runs
// whose claim was lost with a connection are run again.
func TestConnectionsKilled(t *testing.T) {
	t.Parallel()
	prefix := newPrefix(t)
	a, nameA := openNamed(t, prefix)
	b, nameB := openNamed(t, prefix)
	var mu sync.Mutex
	ran := map[string]int{}
	task := map[string]sundial.TaskFunc{"work": func(ctx context.Context, r *sundial.Run) error {
		mu.Lock()
		ran[fmt.Sprint(r.JobID, " ", r.Scheduled.UnixNano())]++
		mu.Unlock()
		return nil
	}}
	start := storeNow(t, a).Add(300 * time.Millisecond).Truncate(100 * time.Millisecond)
	const jobs, fires, every = 10, 20, 100 * time.Millisecond
	end := start.Add((fires - 1) * every)
	for i := range jobs {
		trig := sundial.MustEvery(every, &sundial.IntervalOptions{Start: start, End: end})
		j := &sundial.Job{ID: fmt.Sprintf("job-%d", i), Task: "work", Trigger: trig, NextFire: start}
		if _, err := a.AddJob(context.Background(), j, sundial.ConflictError, start); err != nil {
			t.Fatal(err)
		}
	}
	logs := newErrLog()
	cfg := func(store sundial.Store, id string) sundial.Config {
		return sundial.Config{Store: store, NodeID: id, Logger: slog.New(logs), PollInterval: 100 * time.Millisecond,
			HeartbeatInterval: 200 * time.Millisecond, HeartbeatTTL: time.Second, JobLease: time.Second}
	}
	startScheduler(t, cfg(a, "a"), task)
	startScheduler(t, cfg(b, "b"), task)

	// A reader calls A all along, so that the cuts catch calls in flight;
	// the cuts go on until one did.
	stop := make(chan struct{})
	var readMu sync.Mutex
	var readErrs []error
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := a.ListRuns(context.Background(), sundial.RunFilter{JobID: "job-0"}); err != nil {
				readMu.Lock()
				readErrs = append(readErrs, err)
				readMu.Unlock()
			}
		}
	}()
	hit := func() bool {
		readMu.Lock()
		defer readMu.Unlock()
		return len(readErrs) > 0
	}
	killed, giveUp := 0, time.Now().Add(20*time.Second)
	for time.Now().Before(end.Add(200*time.Millisecond)) || !hit() && time.Now().Before(giveUp) {
		killed += killConns(t, nameA, "") + killConns(t, nameB, "")
		time.Sleep(50 * time.Millisecond) // the schedulers work between the cuts
	}
	close(stop)
	<-readDone
	waitFor(t, "every fire to be settled", 20*time.Second, func() bool { return settled(t, a, jobs, start, every, fires) })
	errs := append(logs.all(), readErrs...)
	t.Logf("killed %d connections; the schedulers logged %d errors, the reader had %d", killed, len(errs)-len(readErrs), len(readErrs))
	if len(readErrs) == 0 {
		t.Error("no call of the reader failed: the test cut no connection under a call")
	}
	for _, err := range errs {
		var re redis.Error
		var ne *net.OpError
		if errors.As(err, &re) || errors.As(err, &ne) {
			t.Errorf("a client error type reached the caller: %T %v", err, err)
		}
		if !strings.HasPrefix(err.Error(), "redisstore: ") {
			t.Errorf("an error not of the Store reached the caller: %v", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range ran {
		if n != 1 {
			t.Errorf("fire %s ran %d times", k, n)
		}
	}
}

// settled reports whether every fire of job-0 … job-(jobs-1) is
// accounted for and nothing is left to do: each fire has one first
// attempt, no run is pending or running, and each interrupted run has a
// next attempt. It fails the test on a fire that succeeded twice.
func settled(t *testing.T, s sundial.Store, jobs int, start time.Time, every time.Duration, fires int) bool {
	type attempt struct {
		at int64
		n  int
	}
	for i := range jobs {
		id := fmt.Sprintf("job-%d", i)
		runs, err := s.ListRuns(context.Background(), sundial.RunFilter{JobID: id, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		attempts, wins := map[attempt]*sundial.Run{}, map[int64]int{}
		for _, r := range runs {
			at := r.Scheduled.UnixNano()
			if !r.State.Final() {
				return false
			}
			if attempts[attempt{at, r.Attempt}] != nil {
				t.Fatalf("%s fire %s has two runs of attempt %d", id, r.Scheduled.Format(time.TimeOnly), r.Attempt)
			}
			attempts[attempt{at, r.Attempt}] = r
			if r.State == sundial.RunSucceeded {
				if wins[at]++; wins[at] > 1 {
					t.Fatalf("%s fire %s succeeded twice", id, r.Scheduled.Format(time.TimeOnly))
				}
			}
		}
		for k, r := range attempts {
			if r.State == sundial.RunInterrupted && attempts[attempt{k.at, k.n + 1}] == nil {
				return false
			}
		}
		for k := range fires {
			if attempts[attempt{start.Add(time.Duration(k) * every).UnixNano(), 1}] == nil {
				return false
			}
		}
	}
	return true
}
