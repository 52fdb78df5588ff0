package pgstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/pgstore"
	"github.com/sundialhq/sundial/store/storetest"
)

// openMany opens n Stores on one new schema at once, as n processes
// starting together would: they race to create the schema, too.
func openMany(t *testing.T, n int) []*pgstore.Store {
	t.Helper()
	db := newDB(t)
	stores := make([]*pgstore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = pgstore.New(context.Background(), db.config()) })
	}
	wg.Wait()
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("store %d: %v", i, errs[i])
		}
		t.Cleanup(func() { s.Close() })
	}
	return stores
}

func asStores(stores []*pgstore.Store) []sundial.Store {
	out := make([]sundial.Store, len(stores))
	for i, s := range stores {
		out[i] = s
	}
	return out
}

// TestFourStoresExactlyOnce runs storetest's exactly-once race with four
// Stores on one schema, as four processes would hold: their claims and
// commits meet only in the server.
func TestFourStoresExactlyOnce(t *testing.T) {
	t.Parallel()
	storetest.ExactlyOnce(t, asStores(openMany(t, 4)))
}

// TestFourStoresMaxInstances runs storetest's cluster-wide MaxInstances
// race with four Stores on one schema.
func TestFourStoresMaxInstances(t *testing.T) {
	t.Parallel()
	storetest.MaxInstancesRace(t, asStores(openMany(t, 4)))
}

// TestSkewedClockTakesNothing has two Stores on one schema, node a
// passing the real time and node b a clock 30 s fast. By b's clock, a's
// job lease and a's heartbeat have both expired; by the server's they
// have not, so b takes neither: it claims nothing a holds, and interrupts
// none of a's runs. The fires b then decides early are still one run
// each. Once a's lease has really ended, b may take it.
func TestSkewedClockTakesNothing(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stores := openMany(t, 2)
	a, b := stores[0], stores[1]
	const skew = 30 * time.Second
	now := serverNow(t, a)
	fast := now.Add(skew)

	every := sundial.MustEvery(10*time.Second, &sundial.IntervalOptions{Start: now})
	for _, id := range []string{"fire", "work"} {
		if _, err := a.AddJob(ctx, &sundial.Job{ID: id, Task: "noop", Trigger: every, NextFire: now}, sundial.ConflictError, now); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Heartbeat(ctx, sundial.NodeInfo{ID: "a", TTL: 10 * time.Second}, now); err != nil {
		t.Fatal(err)
	}
	work := &sundial.Run{ID: sundial.NewRunID(now), JobID: "work", Task: "noop", Scheduled: now, Due: now, Attempt: 1, State: sundial.RunPending}
	if _, err := a.AddRuns(ctx, []*sundial.Run{work}); err != nil {
		t.Fatal(err)
	}
	running, err := a.ClaimRuns(ctx, sundial.RunClaim{Node: "a", Now: now, Horizon: now, Limit: map[string]int{"default": 1}})
	if err != nil || len(running) != 1 {
		t.Fatalf("a's ClaimRuns = %d runs, %v", len(running), err)
	}
	held := claimJobs(t, a, "a", now, 20*time.Second)
	if len(held) != 2 {
		t.Fatalf("a claimed %d jobs, want 2", len(held))
	}

	if got := claimJobs(t, b, "b", fast, 20*time.Second); len(got) != 0 {
		t.Errorf("b, 30 s fast, took %d jobs whose leases hold for 20 s more on the server's clock", len(got))
	}
	rec, err := b.RecoverRuns(ctx, fast)
	if err != nil || len(rec.LostNodes) != 0 || len(rec.Interrupted) != 0 {
		t.Errorf("b, 30 s fast, recovered %+v (%v): a's heartbeat holds for 10 s more on the server's clock", rec, err)
	}
	if r, err := a.GetRun(ctx, running[0].ID); err != nil || r.State != sundial.RunRunning {
		t.Errorf("a's run = %+v, %v; want still running", r, err)
	}

	// a commits its fire; b, deciding ahead on its clock, commits the next
	// ones and tries the first again: one run per fire.
	commit(t, a, held[0], now, now.Add(10*time.Second))
	commit(t, a, held[1], now, now.Add(10*time.Second))
	for _, d := range claimJobs(t, b, "b", fast, 20*time.Second) {
		commit(t, b, d, now, now.Add(10*time.Second), now.Add(20*time.Second), now.Add(30*time.Second), now.Add(40*time.Second))
	}
	checkOnePerFire(t, a, "fire", now, 4)

	// A short lease of a's: b takes it once it has ended on the server.
	short := &sundial.Job{ID: "short", Task: "noop", Trigger: every, NextFire: now}
	if _, err := a.AddJob(ctx, short, sundial.ConflictError, now); err != nil {
		t.Fatal(err)
	}
	claimed := serverNow(t, a)
	claimJobs(t, a, "a", claimed, 300*time.Millisecond)
	var took []sundial.DueJob
	for deadline := time.Now().Add(10 * time.Second); len(took) == 0 && time.Now().Before(deadline); {
		took = claimJobs(t, b, "b", serverNow(t, b).Add(skew), time.Second)
	}
	if len(took) != 1 || took[0].Job.ID != "short" {
		t.Fatalf("b never took the lease that ended: %v", took)
	}
	if waited := serverNow(t, a).Sub(claimed); waited < 300*time.Millisecond {
		t.Errorf("b took the lease %v after a claimed it, before it ended on the server's clock", waited)
	}
}

// serverNow reads the server's clock.
func serverNow(t *testing.T, s *pgstore.Store) time.Time {
	t.Helper()
	now, err := s.StoreNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// claimJobs claims the jobs due by now for node.
func claimJobs(t *testing.T, s sundial.Store, node string, now time.Time, lease time.Duration) []sundial.DueJob {
	t.Helper()
	due, err := s.ClaimDueJobs(context.Background(), sundial.JobClaim{Node: node, Now: now, Horizon: now, Lease: lease, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return due
}

// commit commits one pending run per fire and the next fire, and fails
// unless the claim held.
func commit(t *testing.T, s sundial.Store, d sundial.DueJob, fires ...time.Time) {
	t.Helper()
	c := sundial.FireCommit{JobID: d.Job.ID, Token: d.Token, NextFire: fires[len(fires)-1]}
	for _, f := range fires[:len(fires)-1] {
		c.Runs = append(c.Runs, &sundial.Run{ID: sundial.NewRunID(f), JobID: d.Job.ID, Task: "noop", Scheduled: f, Due: f, Attempt: 1, State: sundial.RunPending})
	}
	res, err := s.CommitFires(context.Background(), []sundial.FireCommit{c}, fires[0])
	if err != nil || len(res) != 1 || res[0].Lost {
		t.Fatalf("CommitFires(%s) = %+v, %v; want the claim held", d.Job.ID, res, err)
	}
}

// checkOnePerFire fails unless job has exactly one run for each of its n
// fires every 10 s from start, and no other.
func checkOnePerFire(t *testing.T, s sundial.Store, job string, start time.Time, n int) {
	t.Helper()
	runs, err := s.ListRuns(context.Background(), sundial.RunFilter{JobID: job, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[time.Time]int{}
	for _, r := range runs {
		seen[r.Scheduled]++
	}
	for k := range n {
		at := start.Add(time.Duration(k) * 10 * time.Second).UTC()
		if seen[at] != 1 {
			t.Errorf("%s fire %d has %d runs, want 1", job, k, seen[at])
		}
	}
	if len(runs) != n {
		t.Errorf("%s has %d runs, want %d", job, len(runs), n)
	}
}

// TestOwnClaimTakenBack checks that a node claiming again takes back its
// own claims at once (its answer was lost, say), with a new token that
// the old one no longer commits against, while other nodes still wait
// for the lease.
func TestOwnClaimTakenBack(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	if _, err := s.AddJob(context.Background(), job("a", base), sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	first := claimJobs(t, s, "n1", base, time.Minute)
	if got := claimJobs(t, s, "n2", base, time.Minute); len(got) != 0 {
		t.Fatalf("n2 took n1's live claim")
	}
	again := claimJobs(t, s, "n1", base, time.Minute)
	if len(first) != 1 || len(again) != 1 || again[0].Token == first[0].Token {
		t.Fatalf("n1 claimed %v, then %v; want the job again, with a new token", first, again)
	}
	res, err := s.CommitFires(context.Background(), []sundial.FireCommit{{JobID: "a", Token: first[0].Token, NextFire: base.Add(time.Hour)}}, base)
	if err != nil || !res[0].Lost {
		t.Errorf("a commit with the old token = %+v, %v; want lost", res, err)
	}
	commit(t, s, again[0], base, base.Add(time.Minute))
}
