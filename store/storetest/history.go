package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

func testHistory(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	mustAdd(t, s, job("a", base))
	mustAdd(t, s, job("b", base))
	for i := range 10 {
		at := base.Add(time.Duration(i) * time.Minute)
		r := pendingRun("a", at)
		r.ID = fmt.Sprintf("a-%02d", i)
		r.State, r.Finished = sundial.RunSucceeded, at
		if i%3 == 0 {
			r.State = sundial.RunFailed
		}
		addPending(t, s, r)
	}
	skipped := pendingRun("b", base)
	skipped.State, skipped.Reason = sundial.RunSkipped, "coalesced"
	addPending(t, s, skipped)
	page1, _ := s.ListRuns(ctx, sundial.RunFilter{JobID: "a", Limit: 4})
	page2, _ := s.ListRuns(ctx, sundial.RunFilter{JobID: "a", Limit: 4, Before: page1[3].ID})
	if got := runIDs(append(page1, page2...)); got != "a-09 a-08 a-07 a-06 a-05 a-04 a-03 a-02" {
		t.Errorf("pages = %s, want newest first, continuing", got)
	}
	failed, _ := s.ListRuns(ctx, sundial.RunFilter{JobID: "a", States: []sundial.RunState{sundial.RunFailed}})
	if got := runIDs(failed); got != "a-09 a-06 a-03 a-00" {
		t.Errorf("failed runs = %s", got)
	}
	window, _ := s.ListRuns(ctx, sundial.RunFilter{From: base.Add(2 * time.Minute), To: base.Add(4 * time.Minute)})
	if got := runIDs(window); got != "a-03 a-02" {
		t.Errorf("time window = %s", got)
	}
	if n, err := s.PruneRuns(ctx, sundial.Retention{KeepPerJob: 5}, base); err != nil || n != 5 {
		t.Errorf("PruneRuns(keep 5) = %d, %v; want 5", n, err)
	}
	if n, _ := s.PruneRuns(ctx, sundial.Retention{MaxAge: time.Hour}, base.Add(time.Hour+7*time.Minute)); n != 3 {
		t.Errorf("PruneRuns(max age) = %d, want 3 (a-05, a-06 and b's skipped run)", n)
	}
	left, _ := s.ListRuns(ctx, sundial.RunFilter{})
	if got := runIDs(left); got != "a-09 a-08 a-07" {
		t.Errorf("after pruning: %s", got)
	}
	testHistoryTies(t, newStore)
	testHistoryByNode(t, newStore)
}

// testHistoryByNode: Node and StartedBefore select runs by the node that
// holds or ran them and by when they started (a running run: when it was
// claimed, on whatever clock the store claims by); a run never started
// has no start to be before anything.
func testHistoryByNode(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	var runs []*sundial.Run // A, B, C, D, a minute apart
	for i, id := range []string{"A", "B", "C", "D"} {
		at := base.Add(time.Duration(i) * time.Minute)
		mustAdd(t, s, job("job-"+id, base))
		r := pendingRun("job-"+id, at)
		r.ID = id
		addPending(t, s, r)
		runs = append(runs, r)
	}
	started := map[string]time.Time{}
	for i, node := range []string{"a", "a", "b"} { // A and B on a, C on b; D stays pending
		got := claimRuns(t, s, node, runs[i].Scheduled, 1)
		if len(got) != 1 || got[0].ID != runs[i].ID {
			t.Fatalf("claim %d on %s = %s, want %s", i, node, runIDs(got), runs[i].ID)
		}
		started[got[0].ID] = got[0].Started
	}
	c, err := s.GetRun(ctx, "C")
	if err != nil {
		t.Fatal(err)
	}
	c.State, c.Finished = sundial.RunSucceeded, c.Started.Add(time.Second)
	if err := s.FinishRun(ctx, c, nil); err != nil {
		t.Fatal(err)
	}
	before := func(at time.Time, ids ...string) string { // ids, newest first, that started before at
		var out []*sundial.Run
		for _, id := range ids {
			if started[id].Before(at) {
				out = append(out, &sundial.Run{ID: id})
			}
		}
		return runIDs(out)
	}
	late := started["A"]
	for _, at := range started {
		if at.After(late) {
			late = at
		}
	}
	running := []sundial.RunState{sundial.RunRunning}
	for _, tc := range []struct {
		name string
		f    sundial.RunFilter
		want string
	}{
		{"running on a", sundial.RunFilter{States: running, Node: "a"}, "B A"},
		{"running on a, started before B", sundial.RunFilter{States: running, Node: "a", StartedBefore: started["B"]},
			before(started["B"], "A")},
		{"on b, finished", sundial.RunFilter{Node: "b"}, "C"},
		{"succeeded on a", sundial.RunFilter{Node: "a", States: []sundial.RunState{sundial.RunSucceeded}}, ""},
		{"started before the last start", sundial.RunFilter{StartedBefore: late}, before(late, "C", "B", "A")},
		{"started before later", sundial.RunFilter{StartedBefore: late.Add(time.Hour)}, "C B A"},
		{"on a node no run has", sundial.RunFilter{Node: "c"}, ""},
	} {
		got, err := s.ListRuns(ctx, tc.f)
		if err != nil || runIDs(got) != tc.want {
			t.Errorf("%s: ListRuns = %q, %v; want %q", tc.name, runIDs(got), err, tc.want)
		}
	}
}

// testHistoryTies: runs of one instant, pending and finished, list
// newest ID first, and pages continue exactly after their last run.
func testHistoryTies(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	for _, id := range []string{"x", "y", "z"} {
		mustAdd(t, s, job(id, base))
	}
	ids := []string{"tie-3", "tie-0", "tie-5", "tie-1", "tie-4", "tie-2"}
	for i, id := range ids {
		r := pendingRun([]string{"x", "y", "z"}[i%3], base)
		r.ID, r.Attempt = id, 1+i/3
		if i%2 == 0 {
			r.State, r.Started, r.Finished = sundial.RunSucceeded, base, base.Add(time.Second)
		}
		addPending(t, s, r)
	}
	early := pendingRun("x", base.Add(-time.Minute))
	early.ID = "tie-9"
	addPending(t, s, early)
	var pages []*sundial.Run
	before := ""
	for range 5 {
		page, err := s.ListRuns(ctx, sundial.RunFilter{Limit: 2, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		pages = append(pages, page...)
		before = page[len(page)-1].ID
	}
	if got := runIDs(pages); got != "tie-5 tie-4 tie-3 tie-2 tie-1 tie-0 tie-9" {
		t.Errorf("pages of 2 = %s, want one instant newest ID first, then the earlier run", got)
	}
}

func runIDs(runs []*sundial.Run) string {
	out := ""
	for i, r := range runs {
		if i > 0 {
			out += " "
		}
		out += r.ID
	}
	return out
}
