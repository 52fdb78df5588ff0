package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/store/redisstore"
)

// TestWipedPrefixReportsDataLost deletes every key of a Store's prefix,
// as FLUSHDB or a restart without persistence would: every call fails
// with ErrDataLost and writes nothing, until a new Store starts a new
// epoch; the old one still refuses.
func TestWipedPrefixReportsDataLost(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := newPrefix(t)
	s := open(t, prefix)
	j := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: base}
	if _, err := s.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRuns(ctx, []*sundial.Run{pendingRunAt("j", base)}); err != nil {
		t.Fatal(err)
	}
	run := claimOne(t, s, "n")
	deleteKeys(t, testenv.RedisURL(t), prefix)

	calls := map[string]func() error{
		"GetJob":   func() error { return second(s.GetJob(ctx, "j")) },
		"AddJob":   func() error { return second(s.AddJob(ctx, j, sundial.ConflictReplace, base)) },
		"ListJobs": func() error { return second(s.ListJobs(ctx, sundial.JobFilter{})) },
		"NextFire": func() error { return second(s.NextFireTime(ctx)) },
		"ClaimDue": func() error {
			return second(s.ClaimDueJobs(ctx, sundial.JobClaim{Node: "n", Now: base, Horizon: base}))
		},
		"ClaimRuns": func() error {
			return second(s.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Now: base, Horizon: base, Limit: map[string]int{"default": 1}}))
		},
		"FinishRun": func() error { return s.FinishRun(ctx, ended(run), nil) },
		"Heartbeat": func() error {
			return second(s.Heartbeat(ctx, sundial.NodeInfo{ID: "n", Running: []string{run.ID}}, base))
		},
		"Recover":  func() error { return second(s.RecoverRuns(ctx, base.Add(time.Hour))) },
		"ListRuns": func() error { return second(s.ListRuns(ctx, sundial.RunFilter{})) },
		"Prune":    func() error { return second(s.PruneRuns(ctx, sundial.Retention{KeepPerJob: 1}, base)) },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, redisstore.ErrDataLost) {
			t.Errorf("%s after the wipe: %v, want ErrDataLost", name, err)
		}
	}
	if n := countKeys(t, prefix); n != 0 {
		t.Errorf("calls after the wipe wrote %d keys under the prefix", n)
	}

	fresh := open(t, prefix)
	if _, err := fresh.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
		t.Fatalf("a new Store on the wiped prefix: %v", err)
	}
	if _, err := s.GetJob(ctx, "j"); !errors.Is(err, redisstore.ErrDataLost) {
		t.Errorf("the old Store after a new epoch: %v, want ErrDataLost", err)
	}
}

func second[T any](_ T, err error) error { return err }

// countKeys counts the keys under prefix.
func countKeys(t *testing.T, prefix string) int {
	rdb := client(t, testenv.RedisURL(t))
	defer rdb.Close()
	keys, err := rdb.Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// claimOne starts the one due run on node.
func claimOne(t *testing.T, s *redisstore.Store, node string) *sundial.Run {
	t.Helper()
	runs, err := s.ClaimRuns(context.Background(), sundial.RunClaim{Node: node, Now: base, Horizon: base, Limit: map[string]int{"default": 1}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("ClaimRuns = %d runs, %v; want 1", len(runs), err)
	}
	return runs[0]
}

// ended returns r succeeded a second later.
func ended(r *sundial.Run) *sundial.Run {
	done := r.Clone()
	done.State, done.Finished = sundial.RunSucceeded, r.Started.Add(time.Second)
	return done
}

// TestVanishedRunReported loses the writes that created and started a
// run, as a Redis crash under appendfsync everysec would, while a node
// runs it. The node's heartbeat tells it to cancel the run; FinishRun
// fails with ErrRunVanished, inserts no retry, and writes the run's end
// back, so the fire, created again by a schedule that lost its advance,
// does not run twice. Recovery forgets the lost run.
func TestVanishedRunReported(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	prefix := newPrefix(t)
	s := open(t, prefix)
	j := &sundial.Job{ID: "j", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: base.Add(time.Hour),
		Retry: sundial.RetryPolicy{Attempts: 3}}
	if _, err := s.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddRuns(ctx, []*sundial.Run{pendingRunAt("j", base)}); err != nil {
		t.Fatal(err)
	}
	run := claimOne(t, s, "n")
	loseRun(t, prefix, run)

	hb, err := s.Heartbeat(ctx, sundial.NodeInfo{ID: "n", Running: []string{run.ID}}, base)
	if err != nil || len(hb.Cancel) != 1 || hb.Cancel[0] != run.ID {
		t.Errorf("Heartbeat = %+v, %v; want the vanished run cancelled", hb, err)
	}
	failed := ended(run)
	failed.State = sundial.RunFailed
	retry := sundial.PlanRetry(j, failed, failed.Finished)
	err = s.FinishRun(ctx, failed, retry)
	if !errors.Is(err, redisstore.ErrRunVanished) || !errors.Is(err, sundial.ErrNotFound) {
		t.Fatalf("FinishRun of a vanished run = %v; want ErrRunVanished", err)
	}
	if got, err := s.GetRun(ctx, run.ID); err != nil || got.State != sundial.RunFailed || got.Fence != run.Fence {
		t.Errorf("the run written back = %+v, %v; want failed with its fence", got, err)
	}
	if _, err := s.GetRun(ctx, retry.ID); !errors.Is(err, sundial.ErrNotFound) {
		t.Errorf("the retry of a vanished run was inserted: %v", err)
	}
	if again, _ := s.AddRuns(ctx, []*sundial.Run{pendingRunAt("j", base)}); len(again) != 0 {
		t.Error("the fire of the vanished run was created again")
	}
	if rec, err := s.RecoverRuns(ctx, base.Add(time.Hour)); err != nil || len(rec.Interrupted) != 0 {
		t.Errorf("RecoverRuns = %+v, %v; want the lost node with nothing to interrupt", rec, err)
	}
}

// loseRun deletes what creating and starting r wrote, as a server that
// lost its last writes would have it.
func loseRun(t *testing.T, prefix string, r *sundial.Run) {
	rdb := client(t, testenv.RedisURL(t))
	defer rdb.Close()
	ctx := context.Background()
	p := rdb.TxPipeline()
	p.Del(ctx, prefix+"run:"+r.ID)
	p.Del(ctx, prefix+"fire:"+r.JobID)
	for _, z := range []string{"runs", "hist:" + r.JobID, "state:2", "running:" + r.JobID} {
		p.ZRem(ctx, prefix+z, r.ID)
	}
	// The node's set of runs keeps it: a heartbeat's write survived.
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
}
