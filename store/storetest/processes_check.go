package storetest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

type runKey struct {
	job       string
	scheduled int64
	attempt   int
}

// recordLine is one line of a task's record.
type recordLine struct {
	node  string
	fence int64
}

// readRecords reads the tasks' records. A process killed mid-write may
// leave a last line cut short; it is ignored.
func readRecords(t *testing.T, files []string) map[runKey][]recordLine {
	t.Helper()
	out := map[runKey][]recordLine{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var k runKey
			var l recordLine
			if n, _ := fmt.Sscanf(sc.Text(), "%s %d %s %d %d", &k.job, &k.scheduled, &l.node, &k.attempt, &l.fence); n == 5 {
				out[k] = append(out[k], l)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// readHistory reads every run of every job from the store.
func readHistory(t *testing.T, st sundial.Store, jobs, window int) map[string][]*sundial.Run {
	t.Helper()
	out := map[string][]*sundial.Run{}
	for i := range jobs {
		id := processJobID(i)
		runs, err := st.ListRuns(context.Background(), sundial.RunFilter{JobID: id, Limit: 10 * window})
		if err != nil {
			t.Fatal(err)
		}
		out[id] = runs
	}
	return out
}

// checkHistory checks the store's side: per fire of the window, one
// succeeded run; every other attempt interrupted and followed by the next
// attempt; nothing left pending or running; no run outside the window.
func checkHistory(t *testing.T, history map[string][]*sundial.Run, start time.Time, window int) {
	t.Helper()
	interrupted, retried := 0, 0
	for job, runs := range history {
		byFire := map[int64][]*sundial.Run{}
		for _, r := range runs {
			byFire[r.Scheduled.UnixNano()] = append(byFire[r.Scheduled.UnixNano()], r)
		}
		for k := range window {
			at := start.Add(time.Duration(k) * time.Second)
			attempts := byFire[at.UnixNano()]
			delete(byFire, at.UnixNano())
			slices.SortFunc(attempts, func(a, b *sundial.Run) int { return a.Attempt - b.Attempt })
			succeeded := 0
			for i, r := range attempts {
				switch {
				case r.Attempt != i+1:
					t.Errorf("%s fire %d: attempts %v, want 1, 2, ... each once", job, k, attemptsOf(attempts))
				case r.State == sundial.RunSucceeded:
					succeeded++
				case r.State == sundial.RunInterrupted && i+1 < len(attempts):
					interrupted++
					retried++
				default:
					t.Errorf("%s fire %d attempt %d: %s (%s) on %s, want succeeded, or interrupted and retried",
						job, k, r.Attempt, r.State, r.Reason, r.Node)
				}
			}
			if succeeded != 1 {
				t.Errorf("%s fire %d: %d succeeded runs, want exactly 1", job, k, succeeded)
			}
		}
		for at, rs := range byFire {
			t.Errorf("%s: %d runs of a fire at %s, outside the window", job, len(rs), time.Unix(0, at))
		}
	}
	if interrupted == 0 {
		t.Error("no run was interrupted: the kill caught nothing mid-run")
	}
	t.Logf("%d runs interrupted by the kill, %d retried", interrupted, retried)
}

// attemptsOf returns the attempt numbers of runs.
func attemptsOf(runs []*sundial.Run) []int {
	out := make([]int, len(runs))
	for i, r := range runs {
		out[i] = r.Attempt
	}
	return out
}

// checkRecord checks the tasks' record against the store: each line is a
// run the store has, started once, on its node with its fencing token;
// each succeeded run is in the record; fences are distinct per job.
func checkRecord(t *testing.T, record map[runKey][]recordLine, history map[string][]*sundial.Run) {
	t.Helper()
	stored := map[runKey]*sundial.Run{}
	for job, runs := range history {
		fences := map[int64]string{}
		for _, r := range runs {
			stored[runKey{job, r.Scheduled.UnixNano(), r.Attempt}] = r
			if r.Fence == 0 {
				continue
			}
			if other, dup := fences[r.Fence]; dup {
				t.Errorf("%s: runs %s and %s share fencing token %d", job, other, r.ID, r.Fence)
			}
			fences[r.Fence] = r.ID
		}
	}
	for k, lines := range record {
		r := stored[k]
		switch {
		case len(lines) != 1:
			t.Errorf("%s %s attempt %d started %d times by the tasks' record, want once", k.job, time.Unix(0, k.scheduled), k.attempt, len(lines))
		case r == nil:
			t.Errorf("%s %s attempt %d ran, but the store has no such run", k.job, time.Unix(0, k.scheduled), k.attempt)
		case lines[0].node != r.Node, lines[0].fence != r.Fence:
			t.Errorf("%s %s attempt %d ran on %s with fence %d; the store says %s, fence %d",
				k.job, time.Unix(0, k.scheduled), k.attempt, lines[0].node, lines[0].fence, r.Node, r.Fence)
		}
	}
	perNode := map[string]int{}
	for _, lines := range record {
		perNode[lines[0].node]++
	}
	t.Logf("runs started per node, by the tasks' record: %v", perNode)
	for k, r := range stored {
		if r.State == sundial.RunSucceeded && len(record[k]) == 0 {
			t.Errorf("%s %s attempt %d succeeded in the store but is not in the tasks' record", k.job, r.Scheduled, k.attempt)
		}
	}
}

// reportLateness logs the lateness of the first attempts (start minus
// scheduled time), as the store recorded it.
func reportLateness(t *testing.T, history map[string][]*sundial.Run) {
	var late []time.Duration
	for _, runs := range history {
		for _, r := range runs {
			if r.Attempt == 1 && !r.Started.IsZero() {
				late = append(late, r.Lateness())
			}
		}
	}
	if len(late) == 0 {
		return
	}
	slices.Sort(late)
	q := func(p float64) string { return late[int(p*float64(len(late)-1))].Round(time.Millisecond).String() }
	t.Logf("lateness of %d first attempts: p50 %s, p99 %s, max %s", len(late), q(0.5), q(0.99), q(1))
}
