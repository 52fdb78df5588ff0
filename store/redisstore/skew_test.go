package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/redisstore"
)

// skew is how fast the clock of the node under test runs.
const skew = 30 * time.Second

// storeNow reads Redis's clock.
func storeNow(t *testing.T, s *redisstore.Store) time.Time {
	t.Helper()
	now, err := s.StoreNow(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return now
}

// TestFastClockTakesNoClaim has node A claim a job with a short lease,
// and node B, whose clock runs 30 s fast, try to take it: by B's clock
// the lease expired long ago, by Redis's it has not, and B gets nothing
// until Redis's clock passes the lease's end. A's commit goes through.
func TestFastClockTakesNoClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := newPrefix(t)
	a, b := open(t, prefix), open(t, prefix)
	now := storeNow(t, a)
	j := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: now}
	if _, err := a.AddJob(ctx, j, sundial.ConflictError, now); err != nil {
		t.Fatal(err)
	}
	const lease = 300 * time.Millisecond
	due, err := a.ClaimDueJobs(ctx, sundial.JobClaim{Node: "a", Now: now, Horizon: now, Lease: lease})
	if err != nil || len(due) != 1 {
		t.Fatalf("A's claim = %d jobs, %v", len(due), err)
	}
	fast := now.Add(skew)
	if got, err := b.ClaimDueJobs(ctx, sundial.JobClaim{Node: "b", Now: fast, Horizon: fast, Lease: lease}); err != nil || len(got) != 0 {
		t.Fatalf("B, 30 s fast, took A's claim: %d jobs, %v", len(got), err)
	}
	res, err := a.CommitFires(ctx, []sundial.FireCommit{{JobID: "j", Token: due[0].Token,
		Runs: []*sundial.Run{pendingRunAt("j", now)}, NextFire: now.Add(time.Minute)}}, now)
	if err != nil || res[0].Lost || len(res[0].Inserted) != 1 {
		t.Fatalf("A's commit after B tried = %+v, %v", res, err)
	}

	// A claims again and never commits: once Redis's clock passes the
	// lease's end, B takes the job.
	j2 := &sundial.Job{ID: "k", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: now}
	a.AddJob(ctx, j2, sundial.ConflictError, now)
	if due, _ := a.ClaimDueJobs(ctx, sundial.JobClaim{Node: "a", Now: now, Horizon: now, Lease: lease}); len(due) != 1 {
		t.Fatalf("A claimed %d jobs, want k", len(due))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fast := storeNow(t, b).Add(skew)
		got, err := b.ClaimDueJobs(ctx, sundial.JobClaim{Node: "b", Now: fast, Horizon: fast, Lease: lease})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 1 {
			if held := storeNow(t, b).Sub(now); held < lease {
				t.Fatalf("B took the claim %v after A's, before its lease of %v ended", held, lease)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B never took the claim whose lease ended")
		}
		time.Sleep(20 * time.Millisecond) // Redis's clock, which the test cannot move, must pass the lease
	}
}

// TestFastClockFindsNoNodeLost has node A heartbeat and run a run, and
// node B, whose clock runs 30 s fast, recover runs: A is alive by Redis's
// clock, so nothing is interrupted. Once A's heartbeat expires on Redis's
// clock too, B counts it lost.
func TestFastClockFindsNoNodeLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := newPrefix(t)
	a, b := open(t, prefix), open(t, prefix)
	now := storeNow(t, a)
	j := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: now.Add(time.Hour)}
	if _, err := a.AddJob(ctx, j, sundial.ConflictError, now); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddRuns(ctx, []*sundial.Run{pendingRunAt("j", now)}); err != nil {
		t.Fatal(err)
	}
	const ttl = 500 * time.Millisecond
	if _, err := a.Heartbeat(ctx, sundial.NodeInfo{ID: "a", TTL: ttl}, now); err != nil {
		t.Fatal(err)
	}
	runs, err := a.ClaimRuns(ctx, sundial.RunClaim{Node: "a", Now: now, Horizon: now, Limit: map[string]int{"default": 1}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("A claimed %d runs, %v", len(runs), err)
	}
	rec, err := b.RecoverRuns(ctx, now.Add(skew))
	if err != nil || len(rec.LostNodes) != 0 || len(rec.Interrupted) != 0 {
		t.Fatalf("B, 30 s fast, recovered %+v, %v; want nothing: A is alive by Redis's clock", rec, err)
	}
	if r, _ := a.GetRun(ctx, runs[0].ID); r.State != sundial.RunRunning {
		t.Fatalf("A's run is %s", r.State)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec, err := b.RecoverRuns(ctx, storeNow(t, b).Add(skew))
		if err != nil {
			t.Fatal(err)
		}
		if len(rec.LostNodes) == 1 {
			if len(rec.Interrupted) != 1 || rec.Interrupted[0].ID != runs[0].ID {
				t.Errorf("interrupted %+v, want A's run", rec.Interrupted)
			}
			if since := storeNow(t, b).Sub(now); since < ttl {
				t.Errorf("A counted lost %v after its heartbeat, before its TTL of %v", since, ttl)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("A was never counted lost")
		}
		time.Sleep(20 * time.Millisecond) // Redis's clock must pass A's heartbeat expiry
	}
}

// pendingRunAt returns a first-attempt pending run of a fire.
func pendingRunAt(jobID string, at time.Time) *sundial.Run {
	return &sundial.Run{ID: sundial.NewRunID(at), JobID: jobID, Task: "noop", Scheduled: at,
		Due: at, Attempt: 1, State: sundial.RunPending, Created: at}
}
