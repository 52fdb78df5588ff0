package sqlitestore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/sqlitestore"
)

// openMany opens n Stores on one file at once, as n processes starting
// together would: they race to create the schema, too.
func openMany(t *testing.T, n int) []*sqlitestore.Store {
	t.Helper()
	path := tempPath(t)
	stores := make([]*sqlitestore.Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Go(func() { stores[i], errs[i] = sqlitestore.New(context.Background(), sqlitestore.Config{Path: path}) })
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

// TestFourStoresExactlyOnce races the schedule loops of four Stores on one
// file over the same jobs for a simulated half minute. Their clocks are up
// to 2s apart and their leases short, so a node often claims jobs whose
// lease expired by its clock while the node that claimed them first has
// yet to commit: all four claim at once, then all four commit at once,
// round after round. Every fire must have exactly one run.
func TestFourStoresExactlyOnce(t *testing.T) {
	t.Parallel()
	const jobs, seconds = 100, 30
	ctx := context.Background()
	stores := openMany(t, 4)
	every := sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: base})
	for i := range jobs {
		j := &sundial.Job{ID: fmt.Sprintf("job-%03d", i), Task: "noop", Trigger: every, NextFire: base}
		if _, err := stores[i%4].AddJob(ctx, j, sundial.ConflictError, base); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(1, 7))
	nodes := make([]*node, len(stores))
	for n, s := range stores {
		nodes[n] = &node{s: s, id: fmt.Sprint("node-", n), skew: time.Duration(r.IntN(2000)) * time.Millisecond}
	}
	end, twice := base.Add(seconds*time.Second), 0
	for now := base; now.Before(end.Add(5 * time.Second)); now = now.Add(time.Duration(100+r.IntN(400)) * time.Millisecond) {
		for _, n := range nodes {
			n.limit = 1 + r.IntN(40)
		}
		each(t, nodes, func(n *node) error { return n.claim(ctx, now) })
		twice += claimedTwice(nodes)
		each(t, nodes, func(n *node) error { return n.commit(ctx, now, end) })
	}
	if twice == 0 {
		t.Fatal("no job was claimed by two nodes in a round: the test did not race")
	}
	for i := range jobs {
		checkOneRunPerFire(t, stores[i%4], fmt.Sprintf("job-%03d", i), seconds)
	}
}

// node is one scheduler in TestFourStoresExactlyOnce.
type node struct {
	s     *sqlitestore.Store
	id    string
	skew  time.Duration
	limit int // jobs to claim this round
	due   []sundial.DueJob
}

// claimedTwice counts the jobs that several nodes hold claims on.
func claimedTwice(nodes []*node) int {
	seen, n := map[string]bool{}, 0
	for _, nd := range nodes {
		for _, d := range nd.due {
			if seen[d.Job.ID] {
				n++
			}
			seen[d.Job.ID] = true
		}
	}
	return n
}

// each calls fn for every node at once and waits for them all.
func each(t *testing.T, nodes []*node, fn func(*node) error) {
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Go(func() {
			if err := fn(n); err != nil {
				t.Errorf("%s: %v", n.id, err)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
}

func (n *node) claim(ctx context.Context, now time.Time) (err error) {
	now = now.Add(n.skew)
	n.due, err = n.s.ClaimDueJobs(ctx, sundial.JobClaim{Node: n.id, Now: now, Horizon: now, Lease: 300 * time.Millisecond, Limit: n.limit})
	return err
}

// commit decides the claimed jobs' fires up to now (none from end on) and
// commits them.
func (n *node) commit(ctx context.Context, now, end time.Time) error {
	now = now.Add(n.skew)
	commits := make([]sundial.FireCommit, len(n.due))
	for i, d := range n.due {
		c := sundial.FireCommit{JobID: d.Job.ID, Token: d.Token}
		next := d.Job.NextFire
		for !next.IsZero() && !next.After(now) && next.Before(end) {
			c.Runs = append(c.Runs, &sundial.Run{ID: sundial.NewRunID(now), JobID: d.Job.ID, Task: "noop",
				Scheduled: next, Due: next, Attempt: 1, State: sundial.RunPending})
			next, _ = d.Job.Trigger.Next(next)
		}
		if !next.Before(end) {
			next = time.Time{}
		}
		c.NextFire = next
		commits[i] = c
	}
	_, err := n.s.CommitFires(ctx, commits, now)
	return err
}

func checkOneRunPerFire(t *testing.T, s sundial.Store, id string, seconds int) {
	t.Helper()
	runs, err := s.ListRuns(context.Background(), sundial.RunFilter{JobID: id, Limit: 10 * seconds})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[time.Time]int{}
	for _, r := range runs {
		seen[r.Scheduled]++
	}
	for k := range seconds {
		if at := base.Add(time.Duration(k) * time.Second); seen[at] != 1 {
			t.Fatalf("%s fire %s has %d runs, want exactly 1", id, at.Format(time.TimeOnly), seen[at])
		}
	}
	if len(runs) != seconds {
		t.Fatalf("%s has %d runs, want %d", id, len(runs), seconds)
	}
}

// TestFourStoresMaxInstances races four Stores on one file to start the
// pending runs of a job that allows two at once: two start, with distinct
// fencing tokens, and a third only after one finishes.
func TestFourStoresMaxInstances(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	stores := openMany(t, 4)
	j := &sundial.Job{ID: "a", Task: "noop", MaxInstances: 2, Trigger: sundial.MustEvery(time.Minute, nil)}
	if _, err := stores[0].AddJob(ctx, j, sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	var pending []*sundial.Run
	for i := range 20 {
		at := base.Add(-time.Duration(i) * time.Second)
		pending = append(pending, &sundial.Run{ID: sundial.NewRunID(at), JobID: "a", Task: "noop",
			Scheduled: at, Due: at, Attempt: 1, State: sundial.RunPending})
	}
	if _, err := stores[1].AddRuns(ctx, pending); err != nil {
		t.Fatal(err)
	}
	started := claimAll(t, stores)
	if len(started) != 2 || started[0].Fence == started[1].Fence {
		t.Fatalf("started %d runs (fences %v), want 2 with distinct fences", len(started), fences(started))
	}
	done := started[0].Clone()
	done.State, done.Finished = sundial.RunSucceeded, base.Add(time.Second)
	if err := stores[3].FinishRun(ctx, done, nil); err != nil {
		t.Fatal(err)
	}
	more := claimAll(t, stores)
	if len(more) != 1 || more[0].Fence != 3 {
		t.Fatalf("after one finished: started %d runs (fences %v), want 1 with fence 3", len(more), fences(more))
	}
}

// claimAll has every store claim runs at once and returns what started.
func claimAll(t *testing.T, stores []*sqlitestore.Store) []*sundial.Run {
	var mu sync.Mutex
	var out []*sundial.Run
	var wg sync.WaitGroup
	for n, s := range stores {
		wg.Go(func() {
			runs, err := s.ClaimRuns(context.Background(), sundial.RunClaim{Node: fmt.Sprint("node-", n),
				Now: base, Horizon: base, Limit: map[string]int{"default": 10}})
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			out = append(out, runs...)
			mu.Unlock()
		})
	}
	wg.Wait()
	return out
}

func fences(runs []*sundial.Run) []int64 {
	out := make([]int64, len(runs))
	for i, r := range runs {
		out[i] = r.Fence
	}
	return out
}
