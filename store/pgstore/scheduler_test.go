package pgstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// startScheduler starts a scheduler on cfg, shut down when the test ends.
func startScheduler(t *testing.T, cfg sundial.Config, tasks map[string]sundial.TaskFunc) *sundial.Scheduler {
	t.Helper()
	s, err := sundial.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for name, fn := range tasks {
		if err := s.Handle(name, fn); err != nil {
			t.Fatal(err)
		}
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

// TestJobAddedOnOneFiresOnAnother adds a job through one Store, due 200 ms
// later, and a scheduler asleep on another Store runs it on time: the
// notice woke it, where polling would have left it asleep (its idle limit
// is a minute with notices live).
func TestJobAddedOnOneFiresOnAnother(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	a, b := db.open(t), db.open(t)
	ran := make(chan time.Time, 1)
	startScheduler(t, sundial.Config{Store: b, NodeID: "b", PollInterval: time.Minute}, map[string]sundial.TaskFunc{
		"ping": func(ctx context.Context, run *sundial.Run) error {
			ran <- time.Now()
			return nil
		},
	})
	at := time.Now().Add(200 * time.Millisecond)
	j := &sundial.Job{ID: "ping", Task: "ping", Trigger: sundial.MustAt(at, nil), NextFire: at}
	if _, err := a.AddJob(context.Background(), j, sundial.ConflictError, time.Now()); err != nil {
		t.Fatal(err)
	}
	select {
	case started := <-ran:
		// Alone it starts within a few ms; under -race, beside the other
		// tests on two cores, a few hundred ms happen. Polling would have
		// taken a minute. The scheduler runs on the server's clock: allow
		// for the offset measured.
		late := started.Sub(at)
		t.Logf("ran %v after its time", late)
		if late < -50*time.Millisecond || late > time.Second {
			t.Errorf("the job ran %v after its time, want on time (within 1s)", late)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the job added on another store never ran")
	}
}

// fastClock is the system clock, set ahead.
type fastClock struct {
	sundial.SystemClock
	ahead time.Duration
}

func (c fastClock) Now() time.Time { return time.Now().Add(c.ahead) }

// TestSchedulerSkewedNode runs two schedulers on one schema: a on the
// real clock, executing runs, and b on a clock 30 s fast (kept as is, not
// corrected by the server's), deciding fires. b decides every fire early,
// but each fire runs once, and although by b's clock a's heartbeat has
// long expired, b never counts a lost nor interrupts its runs.
func TestSchedulerSkewedNode(t *testing.T) {
	t.Parallel()
	const jobs, every, fires = 5, 200 * time.Millisecond, 10
	db := newDB(t)
	record := &taskRecord{ran: map[string]int{}}
	slow := func(ctx context.Context, r *sundial.Run) error {
		record.add(r)
		select { // long enough that b's recoveries find a's runs running
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
		return ctx.Err()
	}
	beat := sundial.Config{HeartbeatInterval: 100 * time.Millisecond, HeartbeatTTL: time.Second, PollInterval: 50 * time.Millisecond}
	cfgA, cfgB := beat, beat
	cfgA.Store, cfgA.NodeID = db.open(t), "a"
	cfgB.Store, cfgB.NodeID, cfgB.Role = db.open(t), "b", sundial.RoleScheduler
	cfgB.Clock, cfgB.KeepClock = fastClock{ahead: 30 * time.Second}, true
	interrupted := make(chan *sundial.Run, 100)
	a := startScheduler(t, cfgA, map[string]sundial.TaskFunc{"slow": slow})
	a.Subscribe(sundial.EventRunInterrupted, func(e sundial.Event) { interrupted <- e.Run })
	b := startScheduler(t, cfgB, map[string]sundial.TaskFunc{"slow": slow}) // registered, not run: b only schedules
	b.Subscribe(sundial.EventNodeLost, func(e sundial.Event) { t.Errorf("b counted node %s lost", e.Subject) })

	start := time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second) // 1 to 2 s ahead: every job is added before its first fire
	end := start.Add((fires - 1) * every)
	for i := range jobs {
		// Fires b sees as a backlog must all run, one at a time.
		j := &sundial.Job{ID: fmt.Sprintf("job-%d", i), Task: "slow", Coalesce: sundial.CoalesceAll, Overlap: sundial.OverlapQueueAll,
			Trigger: sundial.MustEvery(every, &sundial.IntervalOptions{Start: start, End: end})}
		if _, err := a.AddJob(context.Background(), j, nil); err != nil {
			t.Fatal(err)
		}
	}
	waitRuns(t, cfgA.Store, jobs*fires, sundial.RunSucceeded, end.Add(10*time.Second))
	for i := range jobs {
		checkFires(t, cfgA.Store, record, fmt.Sprintf("job-%d", i), start, every, fires)
	}
	select {
	case r := <-interrupted:
		t.Errorf("run %s of a was interrupted (%s)", r.ID, r.Reason)
	default:
	}
}

// taskRecord is what tasks say they ran, independent of the store.
type taskRecord struct {
	mu  sync.Mutex
	ran map[string]int // "job scheduled-ns" → times run
}

func (tr *taskRecord) add(r *sundial.Run) {
	tr.mu.Lock()
	tr.ran[fireKey(r.JobID, r.Scheduled)]++
	tr.mu.Unlock()
}

func (tr *taskRecord) count(job string, at time.Time) int {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.ran[fireKey(job, at)]
}

func fireKey(job string, at time.Time) string { return fmt.Sprintf("%s %d", job, at.UnixNano()) }

// waitRuns waits until the store holds n runs in state, failing at
// deadline.
func waitRuns(t *testing.T, s sundial.Store, n int, state sundial.RunState, deadline time.Time) {
	t.Helper()
	for {
		runs, err := s.ListRuns(context.Background(), sundial.RunFilter{States: []sundial.RunState{state}, Limit: n + 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) >= n {
			return
		}
		if time.Now().After(deadline) {
			logState(t, s, state)
			t.Fatalf("%d runs %s by the deadline, want %d", len(runs), state, n)
		}
		time.Sleep(50 * time.Millisecond) // polls a condition; no timing is asserted
	}
}

// logState logs the runs not in state, and the jobs' next fires.
func logState(t *testing.T, s sundial.Store, state sundial.RunState) {
	ctx := context.Background()
	runs, err := s.ListRuns(ctx, sundial.RunFilter{Limit: 10000})
	t.Logf("%d runs in all (%v)", len(runs), err)
	for _, r := range runs {
		if r.State != state {
			t.Logf("run %s of %s at %s, attempt %d: %s (%s) on %q", r.ID, r.JobID,
				r.Scheduled.Format(time.StampMilli), r.Attempt, r.State, r.Reason, r.Node)
		}
	}
	jobs, err := s.ListJobs(ctx, sundial.JobFilter{})
	for _, j := range jobs {
		t.Logf("job %s: next fire %s", j.ID, j.NextFire.Format(time.StampMilli))
	}
}

// checkFires fails unless each of job's fires has exactly one run in the
// store, succeeded, and ran once by the tasks' record.
func checkFires(t *testing.T, s sundial.Store, record *taskRecord, job string, start time.Time, every time.Duration, fires int) {
	t.Helper()
	runs, err := s.ListRuns(context.Background(), sundial.RunFilter{JobID: job, Limit: 10 * fires})
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for _, r := range runs {
		stored[fireKey(job, r.Scheduled)]++
		if r.State != sundial.RunSucceeded {
			t.Errorf("%s fire %s: %s (%s), want succeeded", job, r.Scheduled.Format(time.StampMilli), r.State, r.Reason)
		}
	}
	for k := range fires {
		at := start.Add(time.Duration(k) * every)
		if n := stored[fireKey(job, at)]; n != 1 {
			t.Errorf("%s fire %d has %d runs in the store, want 1", job, k, n)
		}
		if n := record.count(job, at); n != 1 {
			t.Errorf("%s fire %d ran %d times by the tasks' record, want 1", job, k, n)
		}
	}
}
