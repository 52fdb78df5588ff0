package sundial_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

// sharedStore is a memory store dressed as a store shared by several nodes:
// it tells time on a clock of its own and carries events between the
// schedulers that use it, as pgstore and redisstore do.
type sharedStore struct {
	*sundial.MemoryStore
	now func() time.Time
	bus *memBus
}

func (s sharedStore) StoreNow(context.Context) (time.Time, error) { return s.now(), nil }

func (s sharedStore) PublishEvents(_ context.Context, batch []byte) error {
	s.bus.publish(batch)
	return nil
}

func (s sharedStore) SubscribeEvents(fn func([]byte)) func() { return s.bus.subscribe(fn) }

type memBus struct {
	mu     sync.Mutex
	seq    int
	subs   map[int]func([]byte)
	events int // events published, interests aside
}

func (b *memBus) publish(batch []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if events, err := sundial.DecodeEvents(batch); err == nil {
		b.events += len(events)
	}
	for _, fn := range b.subs {
		fn(batch)
	}
}

func (b *memBus) published() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.events
}

func (b *memBus) subscribe(fn func([]byte)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.subs == nil {
		b.subs = map[int]func([]byte){}
	}
	b.seq++
	id := b.seq
	b.subs[id] = fn
	return func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	}
}

func startOn(t *testing.T, cfg sundial.Config) *sundial.Scheduler {
	t.Helper()
	s, err := sundial.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Handle("noop", noop); err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s
}

// A node whose clock runs 30 s behind the store's fires on the store's
// time: a one-off job 20 s past on the store's clock runs at once, with
// the store's time as its start. On its own clock it would wait 10 s.
func TestSchedulerRunsOnTheStoresClock(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	st := sharedStore{MemoryStore: sundial.NewMemoryStore(sundial.MemoryConfig{}), bus: &memBus{},
		now: func() time.Time { return clock.Now().Add(30 * time.Second) }}
	s := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "behind"})
	if got := s.Offset(); got != 30*time.Second {
		t.Fatalf("Offset() = %v, want 30s", got)
	}
	if got := s.Clock().Now(); !got.Equal(t0.Add(30 * time.Second)) {
		t.Fatalf("Clock().Now() = %v, want the store's time %v", got, t0.Add(30*time.Second))
	}
	rec := sundialtest.Record(t, s, sundial.EventJobExecuted|sundial.EventJobMissed)
	if _, err := s.AddJob(context.Background(), &sundial.Job{ID: "due", Task: "noop", Trigger: sundial.MustAt(t0.Add(20*time.Second), nil)}, nil); err != nil {
		t.Fatal(err)
	}
	ev := rec.Wait(t, sundial.EventJobExecuted|sundial.EventJobMissed, wait)
	if ev.Type != sundial.EventJobExecuted || !ev.Run.Started.Equal(t0.Add(30*time.Second)) {
		t.Fatalf("got %s started %v, want executed at the store's %v", ev.Type, ev.Run.Started, t0.Add(30*time.Second))
	}

	kept := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "kept", KeepClock: true})
	if got := kept.Offset(); got != 0 {
		t.Errorf("KeepClock: Offset() = %v, want 0", got)
	}
}

// An offset is replaced only when a reading moves it by more than the
// reading's error, so a node's time does not wobble with each heartbeat.
func TestStoreClockFollowsAStep(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	var mu sync.Mutex
	skew := 5 * time.Second
	st := sharedStore{MemoryStore: sundial.NewMemoryStore(sundial.MemoryConfig{}), bus: &memBus{},
		now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock.Now().Add(skew) }}
	s := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "n1", HeartbeatInterval: time.Second, HeartbeatTTL: 3 * time.Second})
	if got := s.Offset(); got != 5*time.Second {
		t.Fatalf("Offset() = %v, want 5s", got)
	}
	mu.Lock()
	skew = -2 * time.Second // the node's clock was stepped forward by 7 s
	mu.Unlock()
	deadline := time.Now().Add(wait)
	for s.Offset() != -2*time.Second {
		if time.Now().After(deadline) {
			t.Fatalf("Offset() = %v after the step, want -2s at the next heartbeat", s.Offset())
		}
		clock.WaitForTimers(3, 50*time.Millisecond)
		clock.Advance(time.Second)
	}
}

// counter counts the events a scheduler delivers, by type and remoteness.
type counter struct {
	mu sync.Mutex
	n  map[string]int
}

func count(s *sundial.Scheduler) *counter {
	c := &counter{n: map[string]int{}}
	s.Subscribe(sundial.EventAll, func(e sundial.Event) {
		c.mu.Lock()
		defer c.mu.Unlock()
		key := e.Type.String()
		if e.Remote {
			key += "@" + e.Node
		}
		c.n[key]++
	})
	return c
}

func (c *counter) get(key string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[key]
}

// Events travel between the nodes sharing a store: a subscriber on one
// sees the other's runs, marked Remote and named by node, and never its
// own events twice. SharedEvents narrows what a node sends; LocalEvents
// keeps a node out of it.
func TestEventsReachEveryNode(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	st := sharedStore{MemoryStore: sundial.NewMemoryStore(sundial.MemoryConfig{}), bus: &memBus{}, now: clock.Now}
	worker := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "worker",
		SharedEvents: sundial.EventJobExecuted | sundial.EventSchedulerShutdown})
	watcher := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "watcher", Role: sundial.RoleClient})
	local := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "local", Role: sundial.RoleClient, LocalEvents: true})

	seen := sundialtest.Record(t, watcher, sundial.EventAll)
	own, watched, unseen := count(worker), count(watcher), count(local)
	if _, err := worker.AddJob(context.Background(), &sundial.Job{ID: "now", Task: "noop", Trigger: sundial.MustAt(t0, nil)}, nil); err != nil {
		t.Fatal(err)
	}
	ev := seen.Wait(t, sundial.EventJobExecuted, wait)
	if !ev.Remote || ev.Node != "worker" || ev.JobID != "now" || ev.Run == nil || ev.Run.State != sundial.RunSucceeded {
		t.Fatalf("watcher got %+v, want worker's execution of now, remote", ev)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := worker.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if e := seen.Wait(t, sundial.EventSchedulerShutdown, wait); e.Node != "worker" || !e.Remote {
		t.Errorf("watcher: shutdown %+v", e)
	}
	// The bus delivers to every node before the watcher hears of it, so
	// shutting the others down flushes all they received.
	for _, s := range []*sundial.Scheduler{watcher, local} {
		if _, err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := own.get("job_executed"); n != 1 {
		t.Errorf("worker saw its execution %d times, want once", n)
	}
	if n := own.get("job_executed@worker"); n != 0 {
		t.Errorf("worker's own event came back as remote %d times", n)
	}
	if n := watched.get("job_added@worker") + watched.get("job_submitted@worker"); n != 0 {
		t.Errorf("watcher got %d events of types the worker does not share", n)
	}
	if n := unseen.get("job_executed@worker") + unseen.get("scheduler_shutdown@worker"); n != 0 {
		t.Errorf("LocalEvents node received %d of the worker's events", n)
	}
}

func TestEncodeEvents(t *testing.T) {
	job := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil)}
	in := []sundial.Event{
		{Type: sundial.EventJobError, Time: t0, Node: "n1", JobID: "j", RunID: "r", Scheduled: t0, Attempt: 2,
			Duration: time.Second, Err: "boom", Stack: "main.f()", Run: &sundial.Run{ID: "r", JobID: "j", State: sundial.RunFailed}},
		{Type: sundial.EventJobAdded, Time: t0, Node: "n1", JobID: "j", Job: job},
		{Type: sundial.EventNodeLost, Time: t0, Node: "n1", Subject: "n2"},
	}
	data, err := sundial.EncodeEvents(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := sundial.DecodeEvents(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 3 || out[0].Type != sundial.EventJobError || out[0].Err != "boom" || out[0].Attempt != 2 ||
		out[0].Duration != time.Second || out[0].Run.State != sundial.RunFailed || !out[0].Scheduled.Equal(t0) ||
		out[1].Job == nil || out[1].Job.ID != "j" || out[2].Subject != "n2" || out[0].Remote {
		t.Fatalf("round trip: %+v", out)
	}

	for name, bad := range map[string][]sundial.Event{
		"no type":   {{}},
		"two types": {{Type: sundial.EventJobAdded | sundial.EventJobRemoved}},
		"unknown":   {{Type: sundial.EventAll + 1}},
	} {
		if _, err := sundial.EncodeEvents(bad); !errors.Is(err, sundial.ErrInvalid) || !strings.Contains(err.Error(), "events[0].type") {
			t.Errorf("%s: err %v, want ErrInvalid naming events[0].type", name, err)
		}
	}
	for _, bad := range []string{"", "{", `{"type":"job_added"}`, `[{"type":"job_added","job":{"id":""}}]`} {
		if _, err := sundial.DecodeEvents([]byte(bad)); !errors.Is(err, sundial.ErrInvalid) {
			t.Errorf("DecodeEvents(%q): err %v, want ErrInvalid", bad, err)
		}
	}
	// A newer node's event types are dropped, not an error.
	out, err = sundial.DecodeEvents([]byte(`[{"type":"from_the_future","time":"2024-01-01T00:00:00Z"},{"type":"node_lost","subject":"n9"}]`))
	if err != nil || len(out) != 1 || out[0].Subject != "n9" {
		t.Errorf("unknown type: %v %+v", err, out)
	}
}

func FuzzDecodeEvents(f *testing.F) {
	good, _ := sundial.EncodeEvents([]sundial.Event{{Type: sundial.EventJobExecuted, JobID: "j", Run: &sundial.Run{ID: "r"}},
		{Type: sundial.EventJobAdded, Job: &sundial.Job{ID: "j", Task: "t", Trigger: sundial.MustEvery(time.Hour, nil)}}})
	f.Add(good)
	f.Add([]byte(`[]`))
	f.Add([]byte(`[{"type":"node_lost"}]`))
	f.Add([]byte(`[{"type":"job_added","job":{"id":"x","task":"t","trigger":{"kind":"interval","every":"1h"}}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := sundial.DecodeEvents(data)
		if err != nil {
			return
		}
		again, err := sundial.EncodeEvents(events)
		if err != nil {
			t.Fatalf("a decoded batch does not encode: %v", err)
		}
		if _, err := sundial.DecodeEvents(again); err != nil {
			t.Fatalf("a re-encoded batch does not decode: %v", err)
		}
	})
}

// deafStore is a memory store whose notices have stopped: it says so,
// and the scheduler must poll to find a job added behind its back.
type deafStore struct {
	*sundial.MemoryStore
	live bool
}

func (d deafStore) Subscribe(func(sundial.Notice)) func() { return func() {} }
func (d deafStore) NoticesLive() bool                     { return d.live }

func TestPollsWhileNoticesAreDown(t *testing.T) {
	for _, live := range []bool{false, true} {
		clock := sundialtest.NewClock(t0)
		st := deafStore{MemoryStore: sundial.NewMemoryStore(sundial.MemoryConfig{}), live: live}
		s := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "n1"})
		rec := sundialtest.Record(t, s, sundial.EventJobExecuted)
		// Once the loops sleep, another node adds a job due in 30 s; no
		// notice reaches this one.
		clock.WaitForTimers(3, time.Second)
		j := &sundial.Job{ID: "elsewhere", Task: "noop", Trigger: sundial.MustAt(t0.Add(30*time.Second), nil), NextFire: t0.Add(30 * time.Second)}
		if _, err := st.AddJob(context.Background(), j, sundial.ConflictError, t0); err != nil {
			t.Fatal(err)
		}
		clock.WaitForTimers(3, time.Second)
		clock.Advance(30 * time.Second)
		if !live {
			rec.Wait(t, sundial.EventJobExecuted, wait)
			continue
		}
		// Trusting live notices, the loop sleeps on until its idle limit.
		clock.WaitForTimers(3, time.Second)
		clock.Advance(time.Second)
		select {
		case <-time.After(200 * time.Millisecond):
		case e := <-events(s):
			t.Fatalf("live notices: ran %v before the idle limit; the test store is not deaf", e)
		}
	}
}

func events(s *sundial.Scheduler) <-chan sundial.Event {
	ch := make(chan sundial.Event, 1)
	s.Subscribe(sundial.EventJobExecuted, func(e sundial.Event) {
		select {
		case ch <- e:
		default:
		}
	})
	return ch
}

// A node publishes only what another node's subscribers want: nothing
// while nobody listens, the types a subscriber asks for once it does.
func TestEventsFollowDemand(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	bus := &memBus{}
	st := sharedStore{MemoryStore: sundial.NewMemoryStore(sundial.MemoryConfig{}), bus: bus, now: clock.Now}
	worker := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "worker"})
	watcher := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "watcher", Role: sundial.RoleClient})
	own := sundialtest.Record(t, worker, sundial.EventJobExecuted)

	if _, err := worker.AddJob(context.Background(), &sundial.Job{ID: "unwatched", Task: "noop", Trigger: sundial.MustAt(t0, nil)}, nil); err != nil {
		t.Fatal(err)
	}
	own.Wait(t, sundial.EventJobExecuted, wait)
	if n := bus.published(); n != 0 {
		t.Fatalf("%d events published while no other node listens, want 0", n)
	}

	seen := sundialtest.Record(t, watcher, sundial.EventJobExecuted)
	if _, err := worker.AddJob(context.Background(), &sundial.Job{ID: "watched", Task: "noop", Trigger: sundial.MustAt(t0, nil)}, nil); err != nil {
		t.Fatal(err)
	}
	if e := seen.Wait(t, sundial.EventJobExecuted, wait); e.JobID != "watched" || !e.Remote {
		t.Fatalf("watcher got %+v, want the worker's run of watched", e)
	}
	if n := bus.published(); n != 1 {
		t.Errorf("%d events published for one watched type, want 1 (job_executed only)", n)
	}

	// A client node renews its interest, so it keeps receiving long
	// after the interest's lifetime (3 heartbeat TTLs, 30 s here). The
	// clock moves on only once all five loops sleep (the worker's four,
	// the watcher's renewal): moved on while the watcher's renewal waited
	// for a CPU, it reached 40 s with the watcher's interest 30 s old.
	for i := range 40 {
		if !clock.WaitForTimers(5, wait) {
			t.Fatalf("at %d s: %d loops asleep, want 5", i, clock.Timers())
		}
		clock.Advance(time.Second)
	}
	if _, err := worker.AddJob(context.Background(), &sundial.Job{ID: "later", Task: "noop", Trigger: sundial.MustAt(clock.Now(), nil)}, nil); err != nil {
		t.Fatal(err)
	}
	if e := seen.Wait(t, sundial.EventJobExecuted, wait); e.JobID != "later" {
		t.Fatalf("after 40 s the watcher got %+v, want the run of later", e)
	}
}

// On a store shared by several nodes a worker claims only the runs due
// within 50 ms, and no more than its pools can run (two runs per slot),
// so the runs of the next second stay pending for the other nodes, and a
// node killed takes with it only the runs it was about to start. Alone on
// its store it claims a whole Lookahead of runs at once.
func TestSharedStoreClaimsLittleAhead(t *testing.T) {
	for _, shared := range []bool{true, false} {
		clock := sundialtest.NewClock(t0)
		mem := sundial.NewMemoryStore(sundial.MemoryConfig{})
		var st sundial.Store = mem
		if shared {
			st = sharedStore{MemoryStore: mem, bus: &memBus{}, now: clock.Now}
		}
		s := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "n1", Executors: map[string]int{"default": 1}})
		due := t0.Add(500 * time.Millisecond)
		for i := range 10 {
			j := &sundial.Job{ID: fmt.Sprintf("soon-%d", i), Task: "noop", Trigger: sundial.MustAt(due, nil)}
			if _, err := s.AddJob(context.Background(), j, nil); err != nil {
				t.Fatal(err)
			}
		}
		running := func() int {
			runs, err := mem.ListRuns(context.Background(), sundial.RunFilter{States: []sundial.RunState{sundial.RunRunning}})
			if err != nil {
				t.Fatal(err)
			}
			return len(runs)
		}
		waitRunning := func(want int) {
			deadline := time.Now().Add(wait)
			for running() < want {
				if time.Now().After(deadline) {
					t.Fatalf("shared=%v: %d runs claimed after %v, want %d", shared, running(), wait, want)
				}
				time.Sleep(time.Millisecond)
			}
			time.Sleep(20 * time.Millisecond) // a claim of more would show now
			if n := running(); n != want {
				t.Errorf("shared=%v: %d runs claimed, want %d", shared, n, want)
			}
		}
		if !shared {
			waitRunning(10)
			continue
		}
		clock.Advance(400 * time.Millisecond) // 100 ms before the runs are due
		time.Sleep(20 * time.Millisecond)
		if n := running(); n != 0 {
			t.Errorf("shared: %d runs claimed 100 ms before their Due, want 0", n)
		}
		clock.Advance(60 * time.Millisecond) // 40 ms before
		waitRunning(2)
	}
}

// laggingStore's clock, which decides when a node counts as lost, runs
// lag behind the scheduler's reading of it, as it may by up to half a
// round trip. It notes when, by the scheduler's clock, it found a node
// lost.
type laggingStore struct {
	*sundial.MemoryStore
	lag   time.Duration
	mu    sync.Mutex
	found time.Time
}

func (s *laggingStore) RecoverRuns(ctx context.Context, now time.Time) (sundial.Recovery, error) {
	rec, err := s.MemoryStore.RecoverRuns(ctx, now.Add(-s.lag))
	if len(rec.LostNodes) > 0 {
		s.mu.Lock()
		s.found = now
		s.mu.Unlock()
	}
	return rec, err
}

func (s *laggingStore) foundAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.found
}

// A scheduler looks for lost nodes when another node's heartbeat expires,
// not only at its own next heartbeat, so a dead node's runs are recovered
// one TTL after its last heartbeat. When the peer has expired by the
// scheduler's clock but not yet by the store's, it looks again a tenth of
// a HeartbeatInterval later.
func TestRecoversAtPeerExpiry(t *testing.T) {
	for _, lag := range []time.Duration{0, 100 * time.Millisecond} {
		clock := sundialtest.NewClock(t0)
		st := &laggingStore{MemoryStore: sundial.NewMemoryStore(sundial.MemoryConfig{}), lag: lag}
		if _, err := st.Heartbeat(context.Background(), sundial.NodeInfo{ID: "dead", TTL: 3 * time.Second}, t0); err != nil {
			t.Fatal(err)
		}
		s := startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "n1", HeartbeatInterval: 2 * time.Second, HeartbeatTTL: 10 * time.Second})
		lost := sundialtest.Record(t, s, sundial.EventNodeLost)
		for st.foundAt().IsZero() && clock.Now().Before(t0.Add(5*time.Second)) {
			clock.WaitForTimers(3, wait)
			clock.Advance(10 * time.Millisecond)
		}
		// Expired at 3 s by the scheduler's clock, 3 s + lag by the
		// store's; n1's heartbeats are at 2 s and 4 s.
		if at := st.foundAt(); at.IsZero() || at.After(t0.Add(3500*time.Millisecond)) {
			t.Errorf("lag %v: the dead node was found lost at %v, want by 3.5 s", lag, at.Sub(t0))
		}
		if e := lost.Wait(t, sundial.EventNodeLost, wait); e.Subject != "dead" {
			t.Errorf("lag %v: node lost event for %q, want dead", lag, e.Subject)
		}
	}
}

// On a shared store a worker learns of runs another node created only
// through notices, without their times: it then claims every 50 ms for a
// Lookahead, so such a run starts on time, not at the worker's next poll
// (here a second apart). The run is stored directly, as another node's
// scheduler would, so only the worker's loops run.
func TestSharedStoreWorkerLooksAfterNotice(t *testing.T) {
	clock := sundialtest.NewClock(t0)
	mem := sundial.NewMemoryStore(sundial.MemoryConfig{})
	st := sharedStore{MemoryStore: mem, bus: &memBus{}, now: clock.Now}
	startOn(t, sundial.Config{Store: st, Clock: clock, NodeID: "w", Role: sundial.RoleWorker,
		Lookahead: 4 * time.Second, PollInterval: 10 * time.Second}) // polls every 1 s
	clock.WaitForTimers(3, wait) // the worker, heartbeat and event publisher loops sleep
	due := t0.Add(2500 * time.Millisecond)
	run := &sundial.Run{ID: sundial.NewRunID(due), JobID: "elsewhere", Task: "noop", Scheduled: due, Due: due,
		Attempt: 1, State: sundial.RunPending, Created: t0}
	if _, err := st.AddRuns(context.Background(), []*sundial.Run{run}); err != nil {
		t.Fatal(err)
	}
	// The clock steps while the worker's loops sleep, until the run is
	// claimed. (Its start is not the measure: the task's goroutine may
	// wait for a processor while the clock steps on.)
	deadline := time.Now().Add(wait)
	for {
		got, err := st.GetRun(context.Background(), run.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != sundial.RunPending {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the run was not claimed by %v", clock.Now().Sub(t0))
		}
		clock.WaitForTimers(3, wait)
		clock.Advance(10 * time.Millisecond)
	}
	// Looks claim it within a step or two of w.ahead (50 ms) before its
	// Due; the bound leaves room for a loaded machine, on which the clock
	// may step before a loop sleeps.
	if early := due.Sub(clock.Now()); early < -200*time.Millisecond || early > 100*time.Millisecond {
		t.Errorf("the run was claimed %v before its Due, want within 50 ms of it (a poll would be 500 ms late)", early)
	}
}
