package sundial_test

import (
	"context"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/sundialtest"
)

// TestOrphanedClaimIsReleased: a run the store counts as running on this
// node, claimed more than HeartbeatTTL ago by an earlier run of the node
// and not held by its worker, is recorded interrupted (claim lost) and
// runs again as its next attempt; kept running, it would hold its job's
// instance slot forever. Once on the memory store, and once on a store
// the scheduler sees only through the Store interface, without the
// shortcuts it takes on its memory store.
func TestOrphanedClaimIsReleased(t *testing.T) {
	cases := []struct {
		name string
		wrap func(*sundial.MemoryStore) sundial.Store
	}{
		{"memory store", func(m *sundial.MemoryStore) sundial.Store { return m }},
		{"through the Store interface", func(m *sundial.MemoryStore) sundial.Store { return struct{ sundial.Store }{m} }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			c0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
			m := sundial.NewMemoryStore(sundial.MemoryConfig{})
			job := &sundial.Job{ID: "j", Task: "t", Trigger: sundial.MustEvery(24*time.Hour, nil), NextFire: c0.Add(24 * time.Hour)}
			if _, err := m.AddJob(ctx, job, sundial.ConflictError, c0); err != nil {
				t.Fatal(err)
			}
			run := &sundial.Run{ID: "r1", JobID: "j", Task: "t", Scheduled: c0, Due: c0, Attempt: 1, State: sundial.RunPending, Created: c0}
			if _, err := m.AddRuns(ctx, []*sundial.Run{run}); err != nil {
				t.Fatal(err)
			}
			claim := sundial.RunClaim{Node: "n", Now: c0, Horizon: c0, Limit: map[string]int{"default": 1}}
			if got, err := m.ClaimRuns(ctx, claim); err != nil || len(got) != 1 {
				t.Fatalf("claimed %d runs: %v", len(got), err)
			}

			clock := sundialtest.NewClock(c0.Add(time.Second)) // the node comes back
			const ttl = 10 * time.Second
			s, err := sundial.New(sundial.Config{NodeID: "n", Clock: clock, Store: c.wrap(m), HeartbeatTTL: ttl})
			if err != nil {
				t.Fatal(err)
			}
			ran := make(chan *sundial.Run, 8)
			if err := s.Handle("t", func(_ context.Context, r *sundial.Run) error {
				select {
				case ran <- r:
				default: // never block the scheduler's shutdown
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if err := s.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer s.Shutdown(ctx)
			var r *sundial.Run
			for step := 0; r == nil; step++ { // a second at a time, each given time to act on
				if step == 120 {
					t.Fatal("the orphaned run did not run again within two minutes")
				}
				clock.WaitForTimers(1, 50*time.Millisecond)
				clock.Advance(time.Second)
				select {
				case r = <-ran:
				case <-time.After(20 * time.Millisecond):
				}
			}
			if r.JobID != "j" || r.Attempt != 2 || !r.Scheduled.Equal(c0) {
				t.Errorf("ran job %s attempt %d of %v, want j's second attempt of %v", r.JobID, r.Attempt, r.Scheduled, c0)
			}
			if now := clock.Now(); now.Sub(c0) < ttl {
				t.Errorf("released at %v, within the heartbeat TTL of the claim", now.Sub(c0))
			}
			first, err := m.GetRun(ctx, "r1")
			if err != nil || first.State != sundial.RunInterrupted || first.Reason != sundial.ReasonClaimLost {
				t.Errorf("the orphaned run: %+v, %v; want interrupted, %q", first, err, sundial.ReasonClaimLost)
			}
		})
	}
}
