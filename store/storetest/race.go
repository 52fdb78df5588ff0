package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func testExactlyOnce(t *testing.T, newStore NewStore) {
	s := newStore(t)
	ExactlyOnce(t, []sundial.Store{s, s, s, s})
}

// ExactlyOnce races one scheduler per store in stores (the same store
// several times, or several handles on one database, as processes would
// hold): 200 jobs firing every second for a simulated minute. Their clocks
// disagree by up to 2 s and their leases are short, and each round all of
// them claim at once, then all commit at once, so a scheduler often claims
// jobs whose lease expired by its clock while the one that claimed them
// first has yet to commit. It fails if that never happened (it did not
// race), and unless every fire has exactly one run. The stores must start
// empty.
func ExactlyOnce(t *testing.T, stores []sundial.Store) {
	const (
		jobs    = 200
		seconds = 60
	)
	ctx := context.Background()
	for i := range jobs {
		j := job(fmt.Sprintf("job-%03d", i), base)
		j.Trigger = sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: base})
		mustAdd(t, stores[i%len(stores)], j)
	}
	r := rand.New(rand.NewPCG(1, 7))
	nodes := make([]*racer, len(stores))
	for n, s := range stores {
		nodes[n] = &racer{s: s, id: fmt.Sprint("node-", n), skew: time.Duration(r.IntN(2000)) * time.Millisecond}
	}
	end, twice := base.Add(seconds*time.Second), 0
	for now := base; now.Before(end.Add(5 * time.Second)); now = now.Add(time.Duration(100+r.IntN(400)) * time.Millisecond) {
		for _, n := range nodes {
			n.limit = 1 + r.IntN(60)
		}
		together(t, nodes, func(n *racer) error { return n.claim(ctx, now) })
		twice += claimedTwice(nodes)
		together(t, nodes, func(n *racer) error { return n.commit(ctx, now, end) })
	}
	if twice == 0 {
		t.Fatal("no job was claimed by two schedulers in one round: the test did not race")
	}
	checkOneRunPerFire(t, stores[0], jobs, seconds)
}

// racer is one scheduler in testExactlyOnce.
type racer struct {
	s     sundial.Store
	id    string
	skew  time.Duration
	limit int // jobs to claim this round
	due   []sundial.DueJob
}

func (n *racer) claim(ctx context.Context, now time.Time) (err error) {
	now = now.Add(n.skew)
	n.due, err = n.s.ClaimDueJobs(ctx, sundial.JobClaim{Node: n.id, Now: now, Horizon: now, Lease: 300 * time.Millisecond, Limit: n.limit})
	return err
}

// commit decides the claimed jobs' fires up to now (none from end on) and
// commits them.
func (n *racer) commit(ctx context.Context, now, end time.Time) error {
	now = now.Add(n.skew)
	commits := make([]sundial.FireCommit, len(n.due))
	for i, d := range n.due {
		c := sundial.FireCommit{JobID: d.Job.ID, Token: d.Token}
		next := d.Job.NextFire
		for !next.IsZero() && !next.After(now) && next.Before(end) {
			c.Runs = append(c.Runs, pendingRun(d.Job.ID, next))
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

// claimedTwice counts the jobs that several schedulers hold claims on.
func claimedTwice(nodes []*racer) int {
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

// together calls fn for every item at once and waits for them all.
func together[T any](t *testing.T, items []T, fn func(T) error) {
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for _, x := range items {
		wg.Go(func() {
			if err := fn(x); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		t.Fatal(err)
	}
}

func checkOneRunPerFire(t *testing.T, s sundial.Store, jobs, seconds int) {
	ctx := context.Background()
	for i := range jobs {
		id := fmt.Sprintf("job-%03d", i)
		runs, err := s.ListRuns(ctx, sundial.RunFilter{JobID: id, Limit: 10 * seconds})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[time.Time]int{}
		for _, r := range runs {
			seen[r.Scheduled.UTC()]++
		}
		for k := range seconds {
			at := base.Add(time.Duration(k) * time.Second).UTC()
			if seen[at] != 1 {
				t.Fatalf("%s fire %s has %d runs, want exactly 1", id, at.Format(time.TimeOnly), seen[at])
			}
		}
		if len(runs) != seconds {
			t.Fatalf("%s has %d runs, want %d", id, len(runs), seconds)
		}
	}
}

func testMaxInstancesRace(t *testing.T, newStore NewStore) {
	s := newStore(t)
	MaxInstancesRace(t, []sundial.Store{s, s, s, s})
}

// MaxInstancesRace has one node per store claim the pending runs of a
// job that allows two at once, all at the same moment: two start, with
// distinct fencing tokens, and a third only after one of them finishes
// (DESIGN invariant 3, cluster-wide). The stores must start empty.
func MaxInstancesRace(t *testing.T, stores []sundial.Store) {
	ctx := context.Background()
	s := stores[0]
	j := job("a", base)
	j.MaxInstances = 2
	mustAdd(t, s, j)
	var pending []*sundial.Run
	for i := range 20 {
		pending = append(pending, pendingRun("a", base.Add(-time.Duration(i)*time.Second)))
	}
	if _, err := s.AddRuns(ctx, pending); err != nil {
		t.Fatal(err)
	}
	claimAll := func() []*sundial.Run {
		var mu sync.Mutex
		var out []*sundial.Run
		nodes := make([]int, len(stores))
		for i := range nodes {
			nodes[i] = i
		}
		together(t, nodes, func(n int) error {
			runs, err := stores[n].ClaimRuns(ctx, sundial.RunClaim{Node: fmt.Sprint("node-", n), Now: base, Horizon: base, Limit: map[string]int{"default": 10}})
			mu.Lock()
			out = append(out, runs...)
			mu.Unlock()
			return err
		})
		return out
	}
	started := claimAll()
	if len(started) != 2 || started[0].Fence == started[1].Fence {
		t.Fatalf("started %d runs (fences %v), want 2 with distinct fences", len(started), fencesOf(started))
	}
	done := started[0].Clone()
	done.State, done.Finished = sundial.RunSucceeded, base.Add(time.Second)
	if err := stores[len(stores)-1].FinishRun(ctx, done, nil); err != nil {
		t.Fatal(err)
	}
	more := claimAll()
	if len(more) != 1 || more[0].Fence <= max(started[0].Fence, started[1].Fence) {
		t.Fatalf("after one finished: started %d runs (fences %v), want 1 with a fence above %v", len(more), fencesOf(more), fencesOf(started))
	}
}

func fencesOf(runs []*sundial.Run) []int64 {
	out := make([]int64, len(runs))
	for i, r := range runs {
		out[i] = r.Fence
	}
	return out
}
