package schedbench

import (
	"testing"
	"time"
)

// TestTiny runs every adapter through every scenario at a tiny size, so
// vetting and testing the bench module checks that the adapters compile
// and fire what they are asked to.
func TestTiny(t *testing.T) {
	cfgs := map[string]Config{
		ScenarioIdle:  {Jobs: 1000, Every: time.Hour, For: 200 * time.Millisecond, Settle: 100 * time.Millisecond, Budget: time.Minute},
		ScenarioFires: {Jobs: 10, Every: time.Second, For: 2 * time.Second, Lead: time.Second, Drain: 3 * time.Second, Budget: time.Minute},
		ScenarioOnce:  {Jobs: 10, Lead: time.Second, Drain: 3 * time.Second, Budget: time.Minute},
	}
	for _, lib := range Libs {
		for _, sc := range Scenarios {
			t.Run(lib.Name+"/"+sc, func(t *testing.T) {
				if sc != ScenarioIdle {
					// The idle runs measure the heap: they run first,
					// one at a time, before these resume in parallel.
					t.Parallel()
				}
				r := Run(sc, lib, cfgs[sc])
				t.Logf("%+v", r)
				if r.Status != StatusOK {
					t.Fatalf("status %q: %s", r.Status, r.Err)
				}
				if r.Registered != r.Jobs {
					t.Errorf("registered %d of %d jobs", r.Registered, r.Jobs)
				}
				if r.StopErr != "" {
					t.Errorf("stop: %s", r.StopErr)
				}
				if sc == ScenarioIdle {
					if r.HeapRunning <= 0 {
						t.Errorf("heap grew by %d bytes with %d jobs", r.HeapRunning, r.Jobs)
					}
					return
				}
				if r.Expected == 0 || r.Missed != 0 || r.Duplicates != 0 || r.Early != 0 {
					t.Errorf("expected %d fires: %d missed, %d twice, %d early", r.Expected, r.Missed, r.Duplicates, r.Early)
				}
			})
		}
	}
}

func TestJobID(t *testing.T) {
	for _, i := range []int{0, 7, 1234567, 12345678} {
		if got := jobIndex(JobID(i)); got != i {
			t.Errorf("jobIndex(JobID(%d)) = %d (%s)", i, got, JobID(i))
		}
	}
}

// TestRecorderCounts checks the recorder's bookkeeping: a fire's lateness
// in its own entry, a second run of a fire counted twice and not recorded
// again, fires outside the window ignored, and those after freeze missed.
func TestRecorderCounts(t *testing.T) {
	start := time.Now().Add(-time.Hour)
	for _, reported := range []bool{true, false} {
		r := newRecorder(3, 2, start, time.Minute, reported)
		r.task(0, start)                  // slot 0 of job 0
		r.task(1, start)                  // slot 0 of job 1
		r.task(0, start.Add(time.Minute)) // slot 1 of job 0
		if reported {
			r.task(1, start)                    // job 1's slot 0 again
			r.task(2, start.Add(-time.Minute))  // before the window
			r.task(2, start.Add(5*time.Minute)) // after it
		}
		r.task(-1, start) // not a job of the scenario
		r.freeze()
		r.task(2, start) // after freeze: missed
		res := &Result{Expected: 6}
		r.fill(res)
		wantDups, wantAll := int64(0), int64(5)
		if reported {
			wantDups, wantAll = 1, 8
		}
		if res.Ran != 3 || res.Missed != 3 || res.Duplicates != wantDups || res.AllRuns != wantAll {
			t.Errorf("reported %v: ran %d, missed %d, twice %d, all %d; want 3, 3, %d, %d",
				reported, res.Ran, res.Missed, res.Duplicates, res.AllRuns, wantDups, wantAll)
		}
		if res.P50 < 59*time.Minute || res.Max < res.P50 {
			t.Errorf("reported %v: lateness p50 %v max %v, want about an hour", reported, res.P50, res.Max)
		}
	}
}

// TestRecorderWaitFor checks that waitFor returns once every fire of the
// window ran, in whatever order, and waits out its deadline while one is
// missing.
func TestRecorderWaitFor(t *testing.T) {
	start := time.Now().Add(-time.Hour)
	r := newRecorder(2, 3, start, time.Minute, true)
	for _, f := range [][2]int{{0, 2}, {1, 0}, {0, 0}, {1, 1}, {0, 1}} { // job 1's slot 2 missing
		r.task(f[0], start.Add(time.Duration(f[1])*time.Minute))
	}
	t0 := time.Now()
	r.waitFor(6, t0.Add(50*time.Millisecond))
	if waited := time.Since(t0); waited < 50*time.Millisecond {
		t.Fatalf("returned after %v with a fire missing", waited)
	}
	r.task(1, start.Add(2*time.Minute))
	t0 = time.Now()
	r.waitFor(6, t0.Add(time.Minute))
	if waited := time.Since(t0); waited > 30*time.Second {
		t.Fatalf("waited %v with every fire run", waited)
	}
}
