//go:build !race

package sundial

import (
	"testing"
	"time"
)

// TestDecideFiresAllocatesNothing: deciding a job's fire allocates nothing
// of its own when the schedule loop lends it storage (fireInput.fires and
// runs) and makes its runs and IDs; a round of a thousand jobs would make
// thousands of small slices otherwise.
func TestDecideFiresAllocatesNothing(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	job := &Job{ID: "j", Task: "t", Trigger: MustEvery(time.Second, nil), NextFire: now.Add(300 * time.Millisecond)}
	run := new(Run)
	fires := make([]time.Time, 0, 64)
	runs := make([]*Run, 0, 4)
	newID, newRun := func() string { return "r" }, func() *Run { return run } // the loop's, once a round
	for _, coalesce := range []CoalescePolicy{CoalesceLatest, CoalesceAll} {
		job.Coalesce = coalesce
		allocs := testing.AllocsPerRun(100, func() {
			c, err := decideFires(fireInput{due: DueJob{Job: job, Token: 1}, now: now, horizon: now.Add(500 * time.Millisecond),
				grace: time.Minute, overdue: 500 * time.Millisecond, newID: newID,
				newRun: newRun, fires: fires, runs: runs})
			if err != nil || len(c.Runs) != 1 {
				t.Fatalf("decided %d runs: %v", len(c.Runs), err)
			}
		})
		if allocs != 0 {
			t.Errorf("coalesce %v: %v allocations a decision, want none", coalesce, allocs)
		}
	}
}
