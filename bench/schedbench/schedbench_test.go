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
