package sundial_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

func TestPauseResumeUpdate(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"noop": noop})
	ctx := context.Background()
	e.add(t, &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), Tags: []string{"a"}})
	if j, err := e.s.PauseJob(ctx, "j"); err != nil || !j.Paused {
		t.Fatalf("PauseJob = %+v, %v", j, err)
	}
	e.tick(5 * time.Minute)
	e.clock.WaitForTimers(3, time.Second)
	if runs, _ := e.s.ListRuns(ctx, sundial.RunFilter{JobID: "j"}); len(runs) != 0 {
		t.Fatalf("a paused job ran %d times", len(runs))
	}
	j, err := e.s.ResumeJob(ctx, "j")
	if err != nil || j.Paused || !j.NextFire.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("ResumeJob = next %s paused %v, %v; want the next fire at or after now", j.NextFire, j.Paused, err)
	}
	j, err = e.s.Reschedule(ctx, "j", sundial.MustCron("30 * * * *", nil))
	if err != nil || !j.NextFire.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("Reschedule = next %s, %v", j.NextFire, err)
	}
	j, err = e.s.UpdateJob(ctx, "j", func(j *sundial.Job) error { j.Tags = append(j.Tags, "b"); return nil })
	if err != nil || len(j.Tags) != 2 || !j.NextFire.Equal(t0.Add(30*time.Minute)) {
		t.Fatalf("UpdateJob(tags) = %+v, %v; the next fire must not move", j, err)
	}
	if _, err := e.s.UpdateJob(ctx, "j", func(j *sundial.Job) error { j.ID = "k"; return nil }); !errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("changing the ID: %v", err)
	}
	if _, err := e.s.UpdateJob(ctx, "j", func(j *sundial.Job) error { j.MaxInstances = -1; return nil }); !errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("an invalid update: %v", err)
	}
	if _, err := e.s.UpdateJob(ctx, "nope", func(*sundial.Job) error { return nil }); !errors.Is(err, sundial.ErrNotFound) {
		t.Errorf("updating a missing job: %v", err)
	}
	if got, _ := e.s.GetJob(ctx, "j"); got.MaxInstances != 0 || got.Version != j.Version {
		t.Errorf("a refused update changed the job")
	}
}

func TestCancelRunningOverlap(t *testing.T) {
	cancelled := make(chan error, 1)
	e := setup(t, nil, map[string]sundial.TaskFunc{"long": func(ctx context.Context, r *sundial.Run) error {
		if r.Scheduled.Equal(t0.Add(time.Minute)) {
			<-ctx.Done()
			cancelled <- context.Cause(ctx)
			return ctx.Err()
		}
		return nil
	}})
	e.add(t, &sundial.Job{ID: "long", Task: "long", Trigger: sundial.MustEvery(time.Minute, nil), Overlap: sundial.OverlapCancelRunning})
	e.tick(time.Minute)
	e.events.Wait(t, sundial.EventRunStarted, wait)
	e.tick(time.Minute) // the next fire asks the store to cancel the running run; the heartbeat delivers it
	select {
	case cause := <-cancelled:
		if cause == nil {
			t.Error("cancelled without a cause")
		}
	case <-time.After(wait):
		t.Fatal("the running run was not cancelled")
	}
	if ev := e.events.Wait(t, sundial.EventRunInterrupted, wait); ev.Run.Reason != sundial.ReasonCancelled {
		t.Errorf("interrupted with reason %q", ev.Run.Reason)
	}
	if ev := e.events.Wait(t, sundial.EventJobExecuted, wait); !ev.Scheduled.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("the new fire ran at %s", ev.Scheduled)
	}
}

func TestSchedulerPause(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"noop": noop})
	e.s.Pause()
	e.add(t, &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, &sundial.IntervalOptions{Start: t0.Add(time.Minute)})})
	e.tick(time.Minute)
	e.clock.WaitForTimers(3, time.Second)
	if runs, _ := e.s.ListRuns(context.Background(), sundial.RunFilter{}); len(runs) != 0 {
		t.Fatalf("a paused scheduler created %d runs", len(runs))
	}
	e.s.Resume()
	if ev := e.events.Wait(t, sundial.EventJobExecuted, wait); !ev.Scheduled.Equal(t0.Add(time.Minute)) {
		t.Errorf("after Resume ran %s, want the fire that fell due (within grace)", ev.Scheduled)
	}
}

// TestRolesShareAStore runs a scheduler-only node and a worker-only node on
// one store: the first turns fires into runs, the second executes them.
func TestRolesShareAStore(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	store := sundial.NewMemoryStore(sundial.MemoryConfig{})
	nodes := map[sundial.Role]*sundial.Scheduler{}
	ran := make(chan string, 10)
	for _, role := range []sundial.Role{sundial.RoleScheduler, sundial.RoleWorker} {
		s, err := sundial.New(sundial.Config{Store: store, Clock: clock, NodeID: role.String(), Role: role})
		if err != nil {
			t.Fatal(err)
		}
		s.Handle("noop", func(ctx context.Context, r *sundial.Run) error { ran <- r.Node; return nil })
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		nodes[role] = s
		defer s.Shutdown(context.Background())
	}
	if _, err := nodes[sundial.RoleScheduler].AddJob(context.Background(),
		&sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil)}, nil); err != nil {
		t.Fatal(err)
	}
	events := sundialtest.Record(t, nodes[sundial.RoleWorker], sundial.EventJobExecuted)
	events.AdvanceUntil(t, clock, 4, time.Second, sundial.EventJobExecuted, wait)
	select {
	case node := <-ran:
		if node != "worker" {
			t.Errorf("run executed on %q, want the worker node", node)
		}
	case <-time.After(wait):
		t.Fatal("nothing ran")
	}
}

// TestDeadNodeRunRecovered: a node starts a run and stops heartbeating
// (it is "killed": its loops are never shut down gracefully); another node
// marks the run interrupted within the heartbeat TTL and retries it.
func TestDeadNodeRunRecovered(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	store := sundial.NewMemoryStore(sundial.MemoryConfig{})
	ctx := context.Background()
	// The dead node: claims the run directly through the store, as a node
	// would, and then never heartbeats again.
	if _, err := store.Heartbeat(ctx, sundial.NodeInfo{ID: "dead", TTL: 10 * time.Second}, t0); err != nil {
		t.Fatal(err)
	}
	job := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustAt(t0, nil), NextFire: t0,
		Retry: sundial.RetryPolicy{Attempts: 2, Backoff: time.Second}}
	store.AddJob(ctx, job, sundial.ConflictError, t0)
	store.AddRuns(ctx, []*sundial.Run{{ID: "r1", JobID: "j", Task: "noop", Scheduled: t0, Due: t0, Attempt: 1, State: sundial.RunPending}})
	if got, _ := store.ClaimRuns(ctx, sundial.RunClaim{Node: "dead", Now: t0, Horizon: t0, Limit: map[string]int{"default": 1}}); len(got) != 1 {
		t.Fatal("the dead node did not claim the run")
	}
	s, err := sundial.New(sundial.Config{Store: store, Clock: clock, NodeID: "alive"})
	if err != nil {
		t.Fatal(err)
	}
	s.Handle("noop", noop)
	events := sundialtest.Record(t, s, sundial.EventAll)
	s.Start(ctx)
	defer s.Shutdown(ctx)
	for range 6 { // 12 s of heartbeats: past the dead node's 10 s TTL
		clock.WaitForTimers(3, time.Second)
		clock.Advance(2 * time.Second)
	}
	if ev := events.Wait(t, sundial.EventNodeLost, wait); ev.Subject != "dead" {
		t.Errorf("lost node %q", ev.Subject)
	}
	if ev := events.Wait(t, sundial.EventRunInterrupted, wait); ev.RunID != "r1" || ev.Run.Reason != sundial.ReasonNodeLost {
		t.Errorf("interrupted %s (%s)", ev.RunID, ev.Run.Reason)
	}
	if ev := events.Wait(t, sundial.EventJobExecuted, wait); ev.Attempt != 2 {
		t.Errorf("the retry ran as attempt %d", ev.Attempt)
	}
	if r, _ := s.GetRun(ctx, "r1"); r.State != sundial.RunInterrupted {
		t.Errorf("the dead node's run is %s, want interrupted (no run stays running)", r.State)
	}
}

// TestListenersKeepTheirRuns: the schedule loop reuses the runs it
// decides once the memory store has copied them, but not the runs it
// gave to listeners: a JobSubmitted event's run keeps its values after
// later rounds.
func TestListenersKeepTheirRuns(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	store := sundial.NewMemoryStore(sundial.MemoryConfig{})
	s := startOn(t, sundial.Config{Store: store, Clock: clock, NodeID: "n1"})
	var mu sync.Mutex
	var got []sundial.Event
	s.Subscribe(sundial.EventJobSubmitted, func(e sundial.Event) {
		mu.Lock()
		got = append(got, e)
		mu.Unlock()
	})
	for i := range 5 {
		j := &sundial.Job{ID: fmt.Sprintf("j%d", i), Task: "noop", Trigger: sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: t0})}
		if _, err := s.AddJob(context.Background(), j, nil); err != nil {
			t.Fatal(err)
		}
	}
	for k := range 10 { // a second at a time, each second's runs done before the next
		clock.WaitForTimers(3, wait)
		clock.Advance(time.Second)
		waitSucceeded(t, store, 5*(k+1))
	}
	deadline := time.Now().Add(wait)
	for {
		mu.Lock()
		n := len(got)
		mu.Unlock()
		if n >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d submitted events, want at least 40", n)
		}
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, e := range got {
		if e.Run == nil || e.Run.JobID != e.JobID || !e.Run.Scheduled.Equal(e.Scheduled) || e.Run.ID != e.RunID {
			t.Fatalf("event for %s at %v carries run %+v", e.JobID, e.Scheduled, e.Run)
		}
	}
}

// TestReusedRunsKeepEveryRecord: on the memory store the worker's record
// of a run is reused for later claims once the run's end is written. The
// history, the events and the task's own copy keep their values.
func TestReusedRunsKeepEveryRecord(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	store := sundial.NewMemoryStore(sundial.MemoryConfig{})
	s, err := sundial.New(sundial.Config{Store: store, Clock: clock, NodeID: "n1"})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var kept []sundial.Run // what each task saw, by value
	var held []*sundial.Run
	s.Handle("keep", func(ctx context.Context, r *sundial.Run) error {
		mu.Lock()
		kept = append(kept, *r)
		held = append(held, r)
		mu.Unlock()
		return nil
	})
	var bad []string
	s.Subscribe(sundial.EventJobExecuted, func(e sundial.Event) {
		if e.Run == nil || e.Run.ID != e.RunID || e.Run.JobID != e.JobID || !e.Run.Scheduled.Equal(e.Scheduled) || e.Run.State != sundial.RunSucceeded {
			mu.Lock()
			bad = append(bad, fmt.Sprintf("%+v", e))
			mu.Unlock()
		}
	})
	ctx := context.Background()
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(ctx)
	const jobs, fires = 20, 8
	for i := range jobs {
		j := &sundial.Job{ID: fmt.Sprintf("j%02d", i), Task: "keep", Args: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)),
			Trigger: sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: t0.Add(time.Second)})}
		if _, err := s.AddJob(ctx, j, nil); err != nil {
			t.Fatal(err)
		}
	}
	for k := range fires { // a second at a time, each second's runs done before the next
		clock.WaitForTimers(3, wait)
		clock.Advance(time.Second)
		waitSucceeded(t, store, jobs*(k+1))
	}
	for _, r := range waitSucceeded(t, store, jobs*fires) {
		if want := fmt.Sprintf(`{"n":%d}`, atoi(r.JobID[1:])); string(r.Args) != want || r.Node != "n1" {
			t.Fatalf("run %s of %s has args %s and node %q, want %s and n1", r.ID, r.JobID, r.Args, r.Node, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bad) > 0 {
		t.Fatalf("%d executed events carry another run, the first: %s", len(bad), bad[0])
	}
	for i, r := range held {
		if r.ID != kept[i].ID || r.JobID != kept[i].JobID || !r.Scheduled.Equal(kept[i].Scheduled) || string(r.Args) != string(kept[i].Args) {
			t.Fatalf("a task's run changed after it returned: %+v, was %+v", r, kept[i])
		}
	}
}

// waitSucceeded waits until the store holds at least want succeeded runs,
// and returns them.
func waitSucceeded(t *testing.T, store sundial.Store, want int) []*sundial.Run {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		runs, err := store.ListRuns(context.Background(), sundial.RunFilter{States: []sundial.RunState{sundial.RunSucceeded}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) >= want {
			return runs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d succeeded runs, want %d", len(runs), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = 10*n + int(c-'0')
	}
	return n
}

// TestIdleSchedulerDecidesAWholeLookaheadAhead: with no run held or
// running, the schedule loop decides a fire a whole Lookahead before it,
// not half of one, so a burst due at one instant is decided before it.
func TestIdleSchedulerDecidesAWholeLookaheadAhead(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	store := sundial.NewMemoryStore(sundial.MemoryConfig{})
	s := startOn(t, sundial.Config{Store: store, Clock: clock, NodeID: "n1", Lookahead: 2 * time.Second})
	if _, err := s.AddJob(context.Background(), &sundial.Job{ID: "once", Task: "noop", Trigger: sundial.MustAt(t0.Add(10*time.Second), nil)}, nil); err != nil {
		t.Fatal(err)
	}
	for clock.Now().Before(t0.Add(8 * time.Second)) { // the fire less a Lookahead
		clock.WaitForTimers(3, wait)
		clock.Advance(250 * time.Millisecond)
	}
	deadline := time.Now().Add(wait)
	for {
		runs, err := store.ListRuns(context.Background(), sundial.RunFilter{JobID: "once"})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 && !runs[0].Scheduled.Before(t0.Add(10*time.Second)) && runs[0].State != sundial.RunSucceeded {
			return // pending, or claimed by the worker until it is due
		}
		if time.Now().After(deadline) {
			t.Fatalf("a Lookahead before the fire it has %d runs, want one not yet run", len(runs))
		}
		time.Sleep(time.Millisecond)
	}
}

// TestSmallPoolClaimsABurstAhead: runs due at one instant are claimed
// before it even through a one-slot pool, so the burst starts from the
// worker's hands rather than from claims made while it runs.
func TestSmallPoolClaimsABurstAhead(t *testing.T) {
	e := setup(t, func(c *sundial.Config) { c.Executors = map[string]int{"default": 1} }, map[string]sundial.TaskFunc{"noop": noop})
	const jobs = 1000
	for i := range jobs {
		e.add(t, &sundial.Job{ID: fmt.Sprintf("once-%04d", i), Task: "noop", Trigger: sundial.MustAt(t0.Add(time.Second), nil)})
	}
	ctx := context.Background()
	deadline := time.Now().Add(wait)
	for {
		pending, err := e.store.ListRuns(ctx, sundial.RunFilter{States: []sundial.RunState{sundial.RunPending}, Limit: jobs})
		if err != nil {
			t.Fatal(err)
		}
		claimed, err := e.store.ListRuns(ctx, sundial.RunFilter{States: []sundial.RunState{sundial.RunRunning}, Limit: jobs})
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) == 0 && len(claimed) == jobs {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("before the instant, %d runs are pending and %d claimed; want all %d claimed", len(pending), len(claimed), jobs)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBacklogStaysInTheStore: runs already due while the pool is busy
// are a backlog, not a burst approaching: the worker holds no more of
// them than its slots' window and one claim, and leaves the rest pending
// in the store for whichever node frees a slot first.
func TestBacklogStaysInTheStore(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	e := setup(t, func(c *sundial.Config) { c.Executors = map[string]int{"default": 1} }, map[string]sundial.TaskFunc{
		"block": func(ctx context.Context, r *sundial.Run) error {
			select {
			case started <- struct{}{}:
			default:
			}
			select {
			case <-release:
			case <-ctx.Done():
			}
			return nil
		}})
	defer close(release)
	const jobs = 3000
	for i := range jobs {
		e.add(t, &sundial.Job{ID: fmt.Sprintf("due-%04d", i), Task: "block", Trigger: sundial.MustAt(t0, nil)})
	}
	select {
	case <-started:
	case <-time.After(wait):
		t.Fatal("no task started")
	}
	// Every run created (the schedule loop may still be at it when the
	// first task starts), then the loops asleep: no claim in flight.
	ctx := context.Background()
	waitRuns(t, e, jobs)
	e.clock.WaitForTimers(3, wait)
	running, err := e.store.ListRuns(ctx, sundial.RunFilter{States: []sundial.RunState{sundial.RunRunning}, Limit: jobs})
	if err != nil {
		t.Fatal(err)
	}
	if held := len(running); held > 256+1024 {
		t.Fatalf("the worker holds %d of %d due runs behind one busy slot, want at most %d (its window and one claim)", held, jobs, 256+1024)
	}
}

// TestAddJobReturnsItsOwnCopy: the job AddJob returns, a value, shares
// nothing with the caller's or with the one stored.
func TestAddJobReturnsItsOwnCopy(t *testing.T) {
	e := setup(t, nil, map[string]sundial.TaskFunc{"noop": noop})
	ctx := context.Background()
	in := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil),
		Args: json.RawMessage(`{"a":1}`), Tags: []string{"a"}, Metadata: map[string]string{"k": "v"}}
	out, err := e.s.AddJob(ctx, in, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.Name != "j" || out.Version != 1 || !out.NextFire.Equal(t0.Add(time.Minute)) {
		t.Fatalf("returned name %q, version %d, next fire %s; want the defaults filled in", out.Name, out.Version, out.NextFire)
	}
	if in.Name != "" || !in.NextFire.IsZero() || in.Version != 0 {
		t.Fatalf("AddJob changed the caller's job: %+v", in)
	}
	in.Tags[0], in.Metadata["k"], in.Args[1] = "changed", "changed", 'X'
	if out.Tags[0] != "a" || out.Metadata["k"] != "v" || string(out.Args) != `{"a":1}` {
		t.Fatalf("the returned job shares the caller's tags, metadata or args: %v %v %s", out.Tags, out.Metadata, out.Args)
	}
	out.Tags[0] = "mine"
	if got, _ := e.s.GetJob(ctx, "j"); got.Tags[0] != "a" {
		t.Fatalf("the stored job shares the returned one's tags: %v", got.Tags)
	}
}

// burst starts a scheduler whose pool "p" has two slots, adds jobs due
// now whose tasks block until release closes (or their context ends), and
// waits until two run and the loops sleep: the other runs are then
// waiting for a slot.
func burst(t *testing.T, jobs int) (e *env, calls *sync.Map, release chan struct{}) {
	t.Helper()
	release = make(chan struct{})
	started := make(chan struct{}, jobs)
	calls = &sync.Map{}
	e = setup(t, func(c *sundial.Config) { c.Executors = map[string]int{"default": 1, "p": 2} }, map[string]sundial.TaskFunc{
		"block": func(ctx context.Context, r *sundial.Run) error {
			if _, again := calls.LoadOrStore(r.JobID, true); again {
				t.Errorf("job %s's task ran twice", r.JobID)
			}
			started <- struct{}{}
			select {
			case <-release:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}})
	batch := make([]*sundial.Job, jobs)
	for i := range batch {
		batch[i] = &sundial.Job{ID: fmt.Sprintf("burst-%03d", i), Task: "block", Executor: "p", Trigger: sundial.MustAt(t0, nil)}
	}
	if _, err := e.s.AddJobs(context.Background(), batch, nil); err != nil { // due together, claimed together
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-started:
		case <-time.After(wait):
			t.Fatal("the pool's two tasks did not start")
		}
	}
	waitRuns(t, e, jobs)
	e.clock.WaitForTimers(3, wait) // the loops asleep: no claim or launch in flight
	return e, calls, release
}

// entries counts the entries of m.
func entries(m *sync.Map) int {
	n := 0
	m.Range(func(any, any) bool { n++; return true })
	return n
}

// waitRuns waits until the store holds n runs in the given states (any
// state when none is given).
func waitRuns(t *testing.T, e *env, n int, states ...sundial.RunState) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		runs, err := e.store.ListRuns(context.Background(), sundial.RunFilter{States: states, Limit: n + 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d runs %v in the store, want %d", len(runs), states, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBurstHandsSlotsOnWithoutTheLock: once every slot of a pool is
// busy, its due runs wait in a batch that the ending tasks take from
// without the worker's lock; every run in it starts once, and the pool's
// slots and claims come back to zero.
func TestBurstHandsSlotsOnWithoutTheLock(t *testing.T) {
	const jobs = 40
	e, calls, release := burst(t, jobs)
	if n := e.s.DueBatched("p"); n == 0 || n > jobs-2 {
		t.Fatalf("%d runs wait in the pool's batch, want some of the %d behind its busy slots", n, jobs-2)
	}
	close(release)
	deadline := time.Now().Add(wait)
	for {
		busy, claimed := e.s.PoolCounts("p")
		n := entries(calls)
		if n == jobs && busy == 0 && claimed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d tasks ran; the pool has %d busy slots and %d claims, want 0", n, jobs, busy, claimed)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBatchedRunsGoBackUnstarted: runs waiting in a pool's batch are
// given back unstarted, their tasks never called, when the pool is
// removed (to pending, for a node with the pool) and when the scheduler
// shuts down.
func TestBatchedRunsGoBackUnstarted(t *testing.T) {
	const jobs = 20
	t.Run("RemoveExecutor", func(t *testing.T) {
		e, calls, release := burst(t, jobs)
		defer close(release)
		if err := e.s.RemoveExecutor("p"); err != nil {
			t.Fatal(err)
		}
		if n := e.s.DueBatched("p"); n != 0 {
			t.Fatalf("%d runs still wait in the removed pool's batch", n)
		}
		waitRuns(t, e, jobs-2, sundial.RunPending)
		if n := entries(calls); n != 2 {
			t.Fatalf("%d tasks ran, want the 2 started before the pool was removed", n)
		}
	})
	t.Run("Shutdown", func(t *testing.T) {
		e, calls, release := burst(t, jobs)
		stopped := make(chan error, 1)
		go func() { _, err := e.s.Shutdown(context.Background()); stopped <- err }()
		// While Shutdown waits for the two running tasks, the batched runs
		// are already back in the store, unstarted.
		waitRuns(t, e, jobs-2, sundial.RunPending)
		close(release)
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if n := entries(calls); n != 2 {
			t.Fatalf("%d tasks ran, want the 2 started before the shutdown", n)
		}
	})
}
