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

// testExactlyOnce races several schedulers on one store: 200 jobs firing
// every second for a simulated minute, each scheduler claiming, deciding
// the next fire with the trigger and committing, at its own pace and with
// clocks that disagree by up to 2 s. Every fire must have exactly one run.
func testExactlyOnce(t *testing.T, newStore NewStore) {
	const (
		schedulers = 4
		jobs       = 200
		seconds    = 60
	)
	s := newStore(t)
	ctx := context.Background()
	for i := range jobs {
		j := job(fmt.Sprintf("job-%03d", i), base)
		j.Trigger = sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: base})
		mustAdd(t, s, j)
	}
	end := base.Add(seconds * time.Second)
	var wg sync.WaitGroup
	for n := range schedulers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(n), 7))
			skew := time.Duration(r.IntN(2000)) * time.Millisecond
			for now := base; now.Before(end.Add(5 * time.Second)); now = now.Add(time.Duration(100+r.IntN(400)) * time.Millisecond) {
				if err := scheduleOnce(ctx, s, fmt.Sprintf("node-%d", n), now.Add(skew), end, r); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	checkOneRunPerFire(t, s, jobs, seconds)
}

// scheduleOnce is one pass of a schedule loop: claim, decide, commit.
func scheduleOnce(ctx context.Context, s sundial.Store, node string, now, end time.Time, r *rand.Rand) error {
	due, err := s.ClaimDueJobs(ctx, sundial.JobClaim{Node: node, Now: now, Horizon: now, Lease: 5 * time.Second, Limit: 1 + r.IntN(60)})
	if err != nil {
		return err
	}
	var commits []sundial.FireCommit
	for _, d := range due {
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
		commits = append(commits, c)
	}
	if r.IntN(10) == 0 {
		runtimeYield(r)
	}
	_, err = s.CommitFires(ctx, commits, now)
	return err
}

// runtimeYield sleeps a few microseconds so interleavings vary.
func runtimeYield(r *rand.Rand) { time.Sleep(time.Duration(r.IntN(50)) * time.Microsecond) }

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
