package clusterbench

import (
	"testing"
	"time"
)

// TestAnalyze checks the counting on a hand-made record: 2 jobs every
// second, job 1's phase half a second, a steady window of 4 slots per
// job, node 2 killed at 5 s.
func TestAnalyze(t *testing.T) {
	anchor := time.Unix(1000, 0)
	p := &Plan{Env: Env{Jobs: 2, Every: time.Second, Anchor: anchor, Spread: true}, Nodes: 3,
		From: anchor.Add(time.Second), To: anchor.Add(5 * time.Second), Kill: anchor.Add(6 * time.Second), End: anchor.Add(9 * time.Second), Victim: 2}
	ms := func(d int) int64 { return anchor.Add(time.Duration(d) * time.Millisecond).UnixNano() }
	ex := func(job, node, sched, start, attempt int) Exec {
		return Exec{Job: job, Node: node, Scheduled: ms(sched), Started: ms(start), Attempt: attempt}
	}
	execs := []Exec{
		// Steady window: job 0 at 1, 2, 3, 4 s (3 s twice); job 1 at
		// 1.5, 2.5, 4.5 s (3.5 s never).
		ex(0, 0, 1000, 1002, 1), ex(0, 1, 2000, 2010, 1), ex(0, 2, 3000, 3001, 1), ex(0, 0, 3000, 3004, 1), ex(0, 1, 4000, 4100, 1),
		ex(1, 2, 1500, 1501, 1), ex(1, 2, 2500, 2501, 1), ex(1, 1, 4500, 4520, 1),
		// Before the window, one of them off slot.
		ex(0, 0, 0, 1, 1), ex(1, 0, 300, 301, 1),
		// Failover window [5 s, 9 s): job 0 ran on node 2 at 5 s and is
		// resumed at 7 s (6 s lost); job 1 ran at 5.5 s on node 2, its
		// 6.5 s fire was retried at 7.9 s (so ran twice), and 7.5 s, 8.5 s
		// ran.
		ex(0, 2, 5000, 5001, 1), ex(0, 0, 7000, 7003, 1), ex(0, 0, 8000, 8001, 1),
		ex(1, 2, 5500, 5502, 1), ex(1, 2, 6500, 5990, 1), ex(1, 0, 6500, 7900, 2), ex(1, 1, 7500, 7501, 1), ex(1, 1, 8500, 8502, 1),
	}
	f := Analyze(p, execs)
	s := f.Steady
	if s.Expected != 8 || s.Ran != 7 || s.Missed != 1 || s.Duplicates != 1 || s.Extra != 1 {
		t.Errorf("steady: got expected %d ran %d missed %d twice %d extra %d, want 8 7 1 1 1", s.Expected, s.Ran, s.Missed, s.Duplicates, s.Extra)
	}
	if s.P50 != 2*time.Millisecond || s.Max != 100*time.Millisecond {
		t.Errorf("steady lateness: got p50 %v max %v, want 2ms 100ms", s.P50, s.Max)
	}
	if f.OffSlot != 1 {
		t.Errorf("off slot: got %d, want 1", f.OffSlot)
	}
	if want := []int64{2, 3, 3}; f.PerNode[0] != want[0] || f.PerNode[1] != want[1] || f.PerNode[2] != want[2] {
		t.Errorf("per node: got %v, want %v", f.PerNode, want)
	}
	a := f.After
	if a.Expected != 8 || a.Missed != 1 || a.Duplicates != 1 || a.Retried != 1 || a.Behind != 0 {
		t.Errorf("after: got %+v, want 8 expected, 1 missed, 1 twice (a retry), 0 behind", a)
	}
	fo := f.Failover
	if fo.Jobs != 2 || fo.VictimJobs != 2 || fo.Lost != 1 || fo.Stalled != 1 || fo.Unresumed != 0 {
		t.Errorf("failover: got %+v, want 2 jobs, 2 on the victim, 1 lost by 1 job", fo)
	}
	if fo.GapMax != 1501*time.Millisecond {
		t.Errorf("failover gap max: got %v, want 1.501s", fo.GapMax)
	}
}

func TestSlotAtOrBefore(t *testing.T) {
	first := time.Unix(100, 0)
	for _, c := range []struct{ at, want time.Duration }{
		{0, 0}, {-time.Second, 0}, {997 * time.Millisecond, 0}, {998500 * time.Microsecond, time.Second},
		{1997 * time.Millisecond, time.Second}, {1999 * time.Millisecond, 2 * time.Second}, {2 * time.Second, 2 * time.Second},
	} {
		if got := slotAtOrBefore(first, time.Second, first.Add(c.at)).Sub(first); got != c.want {
			t.Errorf("slotAtOrBefore(+%v) = +%v, want +%v", c.at, got, c.want)
		}
	}
}

func TestJobID(t *testing.T) {
	for _, i := range []int{0, 7, 1234567} {
		if got := jobIndex(JobID(i)); got != i {
			t.Errorf("jobIndex(JobID(%d)) = %d", i, got)
		}
	}
	if got := jobIndex("other"); got != -1 {
		t.Errorf("jobIndex(other) = %d, want -1", got)
	}
}
