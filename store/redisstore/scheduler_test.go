package redisstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/redisstore"
)

// startScheduler starts a scheduler on store, shut down when the test
// ends.
func startScheduler(t *testing.T, cfg sundial.Config, tasks map[string]sundial.TaskFunc) *sundial.Scheduler {
	t.Helper()
	s, err := sundial.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, fn := range tasks {
		s.Handle(name, fn)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
	})
	return s
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestJobAddedElsewhereFiresOnTime adds a job through one Store, due
// 200 ms later, and has it fire on time in a scheduler on another Store:
// the notice wakes it (it polls only every 10 s).
func TestJobAddedElsewhereFiresOnTime(t *testing.T) {
	t.Parallel()
	prefix := newPrefix(t)
	a, b := open(t, prefix), open(t, prefix)
	started := make(chan *sundial.Run, 1)
	startScheduler(t, sundial.Config{Store: b, NodeID: "b", PollInterval: 10 * time.Second},
		map[string]sundial.TaskFunc{"ping": func(ctx context.Context, r *sundial.Run) error {
			started <- r
			return nil
		}})
	waitFor(t, "B's notices", 5*time.Second, b.NoticesLive)

	due := storeNow(t, a).Add(200 * time.Millisecond)
	j := &sundial.Job{ID: "ping", Task: "ping", Trigger: sundial.MustAt(due, nil), NextFire: due}
	if _, err := a.AddJob(context.Background(), j, sundial.ConflictError, due); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-started:
		// B made the run before it was due, so it heard of the job at
		// once; the start's lateness is the machine's (loaded in CI).
		if !r.Created.Before(r.Scheduled) {
			t.Errorf("B created the run %v after it was due", r.Created.Sub(r.Scheduled))
		}
		if late := r.Started.Sub(r.Scheduled); late < 0 || late > time.Second {
			t.Errorf("the job fired %v after its time on B, want on time", late)
		}
		if r.Node != "b" {
			t.Errorf("ran on %q", r.Node)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the job added on A never fired on B")
	}
}

// TestEventsReachOtherNodes runs a job on node A and watches for it from
// node B, which executes nothing: B's subscriber sees A's events, marked
// remote. (A shares the event types other nodes' subscribers ask for, and
// hears B's interest through the store too.)
func TestEventsReachOtherNodes(t *testing.T) {
	t.Parallel()
	prefix := newPrefix(t)
	a, b := open(t, prefix), open(t, prefix)
	worker := startScheduler(t, sundial.Config{Store: a, NodeID: "a", HeartbeatInterval: 100 * time.Millisecond},
		map[string]sundial.TaskFunc{"noop": func(context.Context, *sundial.Run) error { return nil }})
	if _, err := worker.AddJob(context.Background(), &sundial.Job{ID: "j", Task: "noop",
		Trigger: sundial.MustEvery(100*time.Millisecond, nil)}, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "A's subscription", 5*time.Second, a.NoticesLive)
	watcher := startScheduler(t, sundial.Config{Store: b, NodeID: "b", Role: sundial.RoleClient}, nil)
	seen := make(chan sundial.Event, 16)
	watcher.Subscribe(sundial.EventJobExecuted, func(e sundial.Event) {
		select {
		case seen <- e:
		default:
		}
	})
	select {
	case e := <-seen:
		if !e.Remote || e.Node != "a" || e.JobID != "j" {
			t.Errorf("B saw %+v; want A's run of j, remote", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("B never saw a run executed on A")
	}
}

// fastClock is the system clock 30 s fast.
type fastClock struct{ sundial.SystemClock }

func (fastClock) Now() time.Time { return time.Now().Add(skew) }

// TestFastNodeStealsNothing runs two schedulers on one prefix, the second
// with a clock 30 s fast that it does not correct (KeepClock), so it
// passes its skewed now to the store; it starts while the first runs
// runs. Every fire has exactly one run, and
// no run is interrupted: by its clock the other node's heartbeats and
// leases expired long ago, but the store measures them on its own clock
// too.
func TestFastNodeStealsNothing(t *testing.T) {
	t.Parallel()
	prefix := newPrefix(t)
	a, b := open(t, prefix), open(t, prefix)
	var mu sync.Mutex
	ran := map[string]int{}
	aRuns := make(chan struct{}, 100)
	task := map[string]sundial.TaskFunc{"work": func(ctx context.Context, r *sundial.Run) error {
		mu.Lock()
		ran[fmt.Sprint(r.JobID, r.Scheduled.UnixNano())]++
		mu.Unlock()
		if r.Node == "a" {
			aRuns <- struct{}{}
		}
		time.Sleep(300 * time.Millisecond) // outlives several heartbeats
		return nil
	}}
	fast := func(store *redisstore.Store, id string, clock sundial.Clock) sundial.Config {
		return sundial.Config{Store: store, NodeID: id, Clock: clock, KeepClock: true, PollInterval: 100 * time.Millisecond,
			HeartbeatInterval: 100 * time.Millisecond, HeartbeatTTL: time.Second, JobLease: 500 * time.Millisecond}
	}
	start := storeNow(t, a).Add(500 * time.Millisecond).Truncate(100 * time.Millisecond)
	const jobs, fires, every = 5, 8, 250 * time.Millisecond
	end := start.Add((fires - 1) * every)
	for i := range jobs {
		trig := sundial.MustEvery(every, &sundial.IntervalOptions{Start: start, End: end})
		j := &sundial.Job{ID: fmt.Sprintf("job-%d", i), Task: "work", Trigger: trig, NextFire: start, MaxInstances: 4}
		if _, err := a.AddJob(context.Background(), j, sundial.ConflictError, start); err != nil {
			t.Fatal(err)
		}
	}
	sa := startScheduler(t, fast(a, "a", sundial.SystemClock{}), task)
	<-aRuns // B starts while A runs runs
	sb := startScheduler(t, fast(b, "b", fastClock{}), task)
	interrupted := make(chan sundial.Event, 100)
	for _, s := range []*sundial.Scheduler{sa, sb} {
		s.Subscribe(sundial.EventRunInterrupted|sundial.EventNodeLost, func(e sundial.Event) {
			select {
			case interrupted <- e:
			default:
			}
		})
	}
	waitFor(t, "every fire to end", 20*time.Second, func() bool { return finished(t, a, jobs) == jobs*fires })
	select {
	case e := <-interrupted:
		t.Errorf("%v: %+v; a fast clock took work away", e.Type, e)
	default:
	}
	mu.Lock()
	defer mu.Unlock()
	for k, n := range ran {
		if n != 1 {
			t.Errorf("fire %s ran %d times", k, n)
		}
	}
	checkOnePerFire(t, a, jobs, start, every, fires)
}

// finished counts the final runs of job-0 … job-(jobs-1).
func finished(t *testing.T, s *redisstore.Store, jobs int) int {
	n := 0
	for i := range jobs {
		runs, err := s.ListRuns(context.Background(), sundial.RunFilter{JobID: fmt.Sprintf("job-%d", i), Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			if r.State.Final() {
				n++
			}
		}
	}
	return n
}

// checkOnePerFire expects one run record per fire of each job, final, not
// interrupted.
func checkOnePerFire(t *testing.T, s *redisstore.Store, jobs int, start time.Time, every time.Duration, fires int) {
	t.Helper()
	for i := range jobs {
		id := fmt.Sprintf("job-%d", i)
		runs, err := s.ListRuns(context.Background(), sundial.RunFilter{JobID: id, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int64]int{}
		for _, r := range runs {
			seen[r.Scheduled.UnixNano()]++
			if !r.State.Final() || r.State == sundial.RunInterrupted {
				t.Errorf("%s run %s: %s (%s)", id, r.Scheduled.Format(time.TimeOnly), r.State, r.Reason)
			}
		}
		for k := range fires {
			if n := seen[start.Add(time.Duration(k)*every).UnixNano()]; n != 1 {
				t.Errorf("%s fire %d has %d runs, want 1", id, k, n)
			}
		}
		if len(runs) != fires {
			t.Errorf("%s has %d runs, want %d", id, len(runs), fires)
		}
	}
}
