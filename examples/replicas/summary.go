package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/pgstore"
)

// tally counts one job's fires.
type tally struct {
	fires, twice, retried int
	perNode               map[string]int
	stored                map[int64]int // succeeded runs per scheduled time in the store
}

// summarize prints the counts, from the tasks' output and from the
// store's history, and fails when a fire ran twice.
func (c *cluster) summarize(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	tallies := map[string]*tally{}
	nodes := map[string]int{}
	for _, id := range jobIDs {
		tallies[id] = &tally{perNode: map[string]int{}}
	}
	for key, execs := range c.fires {
		t := tallies[key.job]
		t.fires++
		firsts := 0
		for _, f := range execs {
			t.perNode[f.node]++
			nodes[f.node]++
			if f.attempt <= 1 {
				firsts++
			}
		}
		if firsts > 1 {
			t.twice++
		} else if len(execs) > 1 {
			t.retried++
		}
	}
	if err := c.readHistory(ctx, tallies); err != nil {
		return err
	}
	fmt.Fprintf(c.out, "\n%-15s %6s %10s %12s   %s\n", "job", "fires", "ran twice", "store: runs", "by node")
	var total, twice, retried int
	for _, id := range jobIDs {
		t := tallies[id]
		total, twice, retried = total+t.fires, twice+t.twice, retried+t.retried
		fmt.Fprintf(c.out, "%-15s %6d %10d %12s   %s\n", id, t.fires, t.twice, storedText(t), byNode(t.perNode))
	}
	fmt.Fprintf(c.out, "\n%d fires ran on %s; fires that ran twice: %d.\n", total, byNode(nodes), twice)
	if retried > 0 {
		fmt.Fprintf(c.out, "%d fires began on %s before it was killed and were run again as attempt 2 once its heartbeat expired: it never said whether they finished.\n", retried, c.killed)
	}
	if twice > 0 {
		return errors.New("a fire ran twice")
	}
	fmt.Fprintln(c.out, "Each fire ran once, though three replicas scheduled every job.")
	return nil
}

// readHistory counts the store's succeeded runs per fire of each job.
func (c *cluster) readHistory(ctx context.Context, tallies map[string]*tally) error {
	st, err := pgstore.New(ctx, pgstore.Config{URL: c.url, Schema: c.schema})
	if err != nil {
		return err
	}
	defer st.Close()
	for id, t := range tallies {
		runs, err := st.ListRuns(ctx, sundial.RunFilter{JobID: id, Limit: 10000})
		if err != nil {
			return err
		}
		t.stored = map[int64]int{}
		for _, r := range runs {
			if r.State == sundial.RunSucceeded {
				t.stored[r.Scheduled.UnixNano()]++
			}
		}
	}
	return nil
}

// storedText says how many fires the store holds a succeeded run of, and
// how many each.
func storedText(t *tally) string {
	most := 0
	for _, n := range t.stored {
		most = max(most, n)
	}
	if most <= 1 {
		return fmt.Sprintf("%d, 1 each", len(t.stored))
	}
	return fmt.Sprintf("%d, up to %d", len(t.stored), most)
}

func byNode(m map[string]int) string {
	var s string
	for _, node := range slices.Sorted(maps.Keys(m)) {
		if s != "" {
			s += ", "
		}
		s += fmt.Sprintf("%s %d", node, m[node])
	}
	return s
}
