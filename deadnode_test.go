package sundial_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

// These tests put a scheduler beside a node that died holding part of a
// job's work, on one memory store: the dead node's part is done through
// the store directly, as a node would do it, and then it never heartbeats
// again. A node's death may cost its work lateness, never fires.

// TestDeadNodeRunCostsNoFires: a node killed holding a run of a job that
// fires every second holds its MaxInstances slot until its heartbeat
// expires. The fires decided meanwhile are not skipped on that run's word:
// they wait, and run once the dead node's run is recovered.
func TestDeadNodeRunCostsNoFires(t *testing.T) {
	ctx := context.Background()
	store := sundial.NewMemoryStore(sundial.MemoryConfig{})
	if _, err := store.Heartbeat(ctx, sundial.NodeInfo{ID: "dead", TTL: 5 * time.Second}, t0.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	addEverySecond(t, store, t0.Add(time.Second))
	// It claims the fire at t0 ahead of its due time and dies before the
	// task begins.
	store.AddRuns(ctx, []*sundial.Run{{ID: "r0", JobID: "j", Task: "noop", Scheduled: t0, Due: t0, Attempt: 1, State: sundial.RunPending}})
	if got, _ := store.ClaimRuns(ctx, sundial.RunClaim{Node: "dead", Now: t0.Add(-40 * time.Millisecond), Horizon: t0,
		Limit: map[string]int{"default": 1}}); len(got) != 1 {
		t.Fatal("the dead node did not claim the run")
	}
	d := besideTheDead(t, store)
	lost := sundialtest.Record(t, d.s, sundial.EventNodeLost)
	d.step(80, func() bool { // 8 s: past the dead node's expiry at 4 s
		r, _ := store.GetRun(ctx, "r0")
		return r.State == sundial.RunRunning
	})
	lost.Wait(t, sundial.EventNodeLost, wait)
	d.everyFireRan(t0, t0.Add(6*time.Second))
}

// TestDeadNodeClaimCostsNoFires: a node killed in the middle of a schedule
// round keeps the job's claim until its lease ends. The fires due until
// then are each run, late, not coalesced into one.
func TestDeadNodeClaimCostsNoFires(t *testing.T) {
	ctx := context.Background()
	store := sundial.NewMemoryStore(sundial.MemoryConfig{})
	addEverySecond(t, store, t0)
	lease := 3 * time.Second
	if got, _ := store.ClaimDueJobs(ctx, sundial.JobClaim{Node: "dead", Now: t0.Add(-500 * time.Millisecond), Horizon: t0.Add(500 * time.Millisecond),
		Lease: lease, Limit: 10}); len(got) != 1 {
		t.Fatal("the dead node did not claim the job")
	}
	d := besideTheDead(t, store)
	d.step(60, func() bool { return d.clock.Now().Before(t0.Add(lease - 500*time.Millisecond)) })
	d.everyFireRan(t0, t0.Add(5*time.Second))
}

// addEverySecond adds job "j", firing every second from t0, next at next.
func addEverySecond(t *testing.T, store sundial.Store, next time.Time) {
	t.Helper()
	job := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: t0}),
		NextFire: next, Retry: sundial.RetryPolicy{Attempts: 2, Backoff: time.Millisecond}}
	if _, err := store.AddJob(context.Background(), job, sundial.ConflictError, t0.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
}

// deadNeighbour is a live scheduler on a store a dead node shares, with
// the skip and miss events it raised.
type deadNeighbour struct {
	t       *testing.T
	clock   *sundialtest.Clock
	store   *sundial.MemoryStore
	s       *sundial.Scheduler
	mu      sync.Mutex
	skipped []sundial.Event
}

func besideTheDead(t *testing.T, store *sundial.MemoryStore) *deadNeighbour {
	d := &deadNeighbour{t: t, clock: sundialtest.NewClock(t0), store: store}
	d.s = startOn(t, sundial.Config{Store: store, Clock: d.clock, NodeID: "alive", HeartbeatInterval: time.Second, HeartbeatTTL: 5 * time.Second})
	d.s.Subscribe(sundial.EventJobMaxInstances|sundial.EventJobSkipped|sundial.EventJobMissed, func(e sundial.Event) {
		d.mu.Lock()
		d.skipped = append(d.skipped, e)
		d.mu.Unlock()
	})
	return d
}

// step moves the clock steps times by 100 ms, each time once the
// scheduler has caught up with it, as it does in real time: the fires of
// the next half second decided (the schedule loop wakes half a Lookahead
// before a fire) and every due run started, unless held reports that the
// dead node still holds the job's work.
func (d *deadNeighbour) step(steps int, held func() bool) {
	d.t.Helper()
	ctx := context.Background()
	caughtUp := func() bool {
		if held() {
			return true
		}
		j, err := d.store.GetJob(ctx, "j")
		if err != nil {
			d.t.Fatal(err)
		}
		due, err := d.store.ListRuns(ctx, sundial.RunFilter{JobID: "j", States: []sundial.RunState{sundial.RunPending},
			To: d.clock.Now().Add(time.Nanosecond)})
		return err == nil && len(due) == 0 && j.NextFire.After(d.clock.Now().Add(500*time.Millisecond))
	}
	for range steps {
		deadline := time.Now().Add(wait)
		for !caughtUp() {
			if time.Now().After(deadline) {
				d.t.Fatalf("at %v the scheduler did not catch up", d.clock.Now().Sub(t0))
			}
			d.clock.WaitForTimers(3, 10*time.Millisecond)
		}
		// The schedule, worker and heartbeat loops sleep on timers, also
		// while the dead node's claim runs out (waking before its end, the
		// schedule loop would claim in a loop until then).
		if !d.clock.WaitForTimers(3, wait) {
			d.t.Fatalf("at %v: %d loops asleep, want 3 (one spins)", d.clock.Now().Sub(t0), d.clock.Timers())
		}
		d.clock.Advance(100 * time.Millisecond)
	}
}

// everyFireRan waits until job "j" has a succeeded run for each fire from
// first to last, and checks that none was skipped or missed.
func (d *deadNeighbour) everyFireRan(first, last time.Time) {
	d.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		runs, err := d.s.ListRuns(context.Background(), sundial.RunFilter{JobID: "j", To: last.Add(time.Millisecond)})
		if err != nil {
			d.t.Fatal(err)
		}
		ran := map[time.Time]bool{}
		var seen []string
		for _, r := range runs {
			if r.State == sundial.RunSucceeded {
				ran[r.Scheduled] = true
			}
			seen = append(seen, fmt.Sprintf("%v#%d %s(%s)", r.Scheduled.Sub(t0), r.Attempt, r.State, r.Reason))
		}
		missing := 0
		for f := first; !f.After(last); f = f.Add(time.Second) {
			if !ran[f] {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("%d fires up to %v never ran; runs: %v", missing, last.Sub(t0), seen)
		}
		time.Sleep(10 * time.Millisecond) // the last runs are finishing
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.skipped {
		d.t.Errorf("%s for the fire at %v: the dead node's part held it back", e.Type, e.Scheduled.Sub(t0))
	}
}

// TestDeadNodeLostWithinItsTTL: the store counts a node that stopped
// heartbeating as lost before its HeartbeatTTL ends, so its runs are
// interrupted and retried within the TTL (invariant 4), not from its end
// on; and not before its next heartbeat was due, even with a TTL barely
// longer than the interval.
func TestDeadNodeLostWithinItsTTL(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct{ interval, ttl time.Duration }{
		{time.Second, 5 * time.Second},
		{time.Second, 1200 * time.Millisecond},
	} {
		store := sundial.NewMemoryStore(sundial.MemoryConfig{})
		// Start heartbeats at t0; the clock stays there, so no other
		// heartbeat follows: from t0 on the node is as good as dead.
		startOn(t, sundial.Config{Store: store, Clock: sundialtest.NewClock(t0), NodeID: "n1",
			HeartbeatInterval: c.interval, HeartbeatTTL: c.ttl})
		rec, err := store.RecoverRuns(ctx, t0.Add(c.interval+10*time.Millisecond))
		if err != nil || len(rec.LostNodes) != 0 {
			t.Errorf("interval %v, TTL %v: lost %v (%v) just after its next heartbeat was due", c.interval, c.ttl, rec.LostNodes, err)
		}
		rec, err = store.RecoverRuns(ctx, t0.Add(c.ttl-time.Millisecond))
		if err != nil || len(rec.LostNodes) != 1 {
			t.Errorf("interval %v, TTL %v: lost %v (%v) a millisecond before the TTL ends, want n1", c.interval, c.ttl, rec.LostNodes, err)
		}
	}
}
