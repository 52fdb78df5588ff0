package storetest

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func testRecovery(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	j := job("a", base)
	j.Retry = sundial.RetryPolicy{Attempts: 3, Backoff: time.Second}
	mustAdd(t, s, j)
	mustAdd(t, s, job("b", base))
	addPending(t, s, pendingRun("a", base), pendingRun("b", base))
	for _, n := range []string{"dead", "alive"} {
		if _, err := s.Heartbeat(ctx, sundial.NodeInfo{ID: n, TTL: 10 * time.Second}, base); err != nil {
			t.Fatal(err)
		}
	}
	ra := claimRuns(t, s, "dead", base, 1)[0]
	rb := claimRuns(t, s, "alive", base, 1)[0]
	later := base.Add(11 * time.Second)
	s.Heartbeat(ctx, sundial.NodeInfo{ID: "alive", TTL: 10 * time.Second, Running: []string{rb.ID}}, base.Add(5*time.Second))
	rec, err := s.RecoverRuns(ctx, later)
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.LostNodes) != 1 || rec.LostNodes[0] != "dead" {
		t.Errorf("lost nodes = %v, want [dead]", rec.LostNodes)
	}
	if len(rec.Interrupted) != 1 || rec.Interrupted[0].ID != ra.ID || rec.Interrupted[0].State != sundial.RunInterrupted {
		t.Fatalf("interrupted = %+v", rec.Interrupted)
	}
	if len(rec.Retries) != 1 || rec.Retries[0].Attempt != 2 {
		t.Errorf("retries = %+v, want attempt 2", rec.Retries)
	}
	if got, _ := s.GetRun(ctx, rb.ID); got.State != sundial.RunRunning {
		t.Errorf("the live node's run is %s", got.State)
	}
	if err := finish(t, s, ra, sundial.RunSucceeded, later, nil); !errors.Is(err, sundial.ErrConflict) {
		t.Errorf("a zombie finishing an interrupted run: %v, want ErrConflict", err)
	}
	hb, _ := s.Heartbeat(ctx, sundial.NodeInfo{ID: "dead", Running: []string{ra.ID}}, later)
	if len(hb.Cancel) != 1 {
		t.Errorf("a node back from the dead must cancel its recovered run, got %v", hb.Cancel)
	}
	if rec, _ := s.RecoverRuns(ctx, later); len(rec.LostNodes) != 0 || len(rec.Interrupted) != 0 {
		t.Errorf("recovery reported twice: %+v", rec)
	}
}

// testPeerExpiry checks that a heartbeat's answer names the earliest
// expiry of another node's heartbeat (none when the node is alone), so a
// scheduler looks for lost nodes right when one may be lost.
func testPeerExpiry(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	beat := func(node string, ttl time.Duration, at time.Time) time.Time {
		t.Helper()
		hb, err := s.Heartbeat(ctx, sundial.NodeInfo{ID: node, TTL: ttl}, at)
		if err != nil {
			t.Fatal(err)
		}
		return hb.PeerExpiry
	}
	if got := beat("a", 10*time.Second, base); !got.IsZero() {
		t.Errorf("a alone: peer expiry %v, want none", got)
	}
	if got, want := beat("b", 5*time.Second, base.Add(time.Second)), base.Add(10*time.Second); !got.Equal(want) {
		t.Errorf("b beside a: peer expiry %v, want a's, %v", got, want)
	}
	beat("c", 20*time.Second, base.Add(time.Second))
	if got, want := beat("a", 10*time.Second, base.Add(2*time.Second)), base.Add(6*time.Second); !got.Equal(want) {
		t.Errorf("a beside b and c: peer expiry %v, want b's, %v", got, want)
	}
}

// testUnconfirmed checks DueJob.Unconfirmed: a run counts while the node
// holding it has not heartbeated since it started the run, or heartbeats
// from a later start, and never for the node that claims the job. A fire
// decision trusts only the runs that count as confirmed to say a job is
// busy, so a node killed holding a run costs its job lateness, not fires.
func testUnconfirmed(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	for _, id := range []string{"quiet", "beating", "own"} {
		mustAdd(t, s, job(id, base.Add(time.Second)))
		addPending(t, s, pendingRun(id, base))
	}
	boot := base.Add(-time.Minute)
	beat := func(node string, started, at time.Time) {
		t.Helper()
		if _, err := s.Heartbeat(ctx, sundial.NodeInfo{ID: node, Started: started, TTL: 10 * time.Second}, at); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"a", "b", "c"} {
		beat(n, boot, base)
	}
	// claimRuns takes the oldest pending run first; job IDs break the tie.
	held := map[string]string{}
	for _, n := range []string{"b", "c", "a"} {
		for _, r := range claimRuns(t, s, n, base.Add(100*time.Millisecond), 1) {
			held[r.JobID] = n
		}
	}
	if len(held) != 3 {
		t.Fatalf("claimed %v, want one run of each job", held)
	}
	beat(held["beating"], boot, base.Add(500*time.Millisecond))
	unconfirmed := func(node string, at time.Time) map[string]int {
		t.Helper()
		out := map[string]int{}
		var commits []sundial.FireCommit
		for _, d := range claim(t, s, node, at, 10) {
			if len(d.Running) != 1 {
				t.Errorf("%s: running %d, want 1", d.Job.ID, len(d.Running))
			}
			out[d.Job.ID] = d.Unconfirmed
			commits = append(commits, sundial.FireCommit{JobID: d.Job.ID, Token: d.Token, NextFire: d.Job.NextFire})
		}
		if _, err := s.CommitFires(ctx, commits, at); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// The node claiming the jobs is the one holding "own"'s run.
	got := unconfirmed(held["own"], base.Add(time.Second))
	if want := map[string]int{"quiet": 1, "beating": 0, "own": 0}; !maps.Equal(got, want) {
		t.Errorf("unconfirmed = %v, want %v (held by %v; only %s heartbeated since)", got, want, held, held["beating"])
	}
	beat(held["quiet"], boot, base.Add(1500*time.Millisecond))
	beat(held["beating"], base.Add(time.Second), base.Add(1500*time.Millisecond)) // restarted
	got = unconfirmed(held["own"], base.Add(2*time.Second))
	if want := map[string]int{"quiet": 0, "beating": 1, "own": 0}; !maps.Equal(got, want) {
		t.Errorf("after a heartbeat of %s and a restart of %s: unconfirmed = %v, want %v", held["quiet"], held["beating"], got, want)
	}
}
