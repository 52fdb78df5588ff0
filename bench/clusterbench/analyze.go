package clusterbench

import (
	"slices"
	"time"
)

// Plan is what the parent asked for and did: the measured windows and
// the kill.
type Plan struct {
	Env   Env
	Nodes int
	// From and To bound the steady window: fires scheduled in [From, To).
	From, To time.Time
	// Kill is when Victim was SIGKILLed (zero: no kill); the failover
	// window holds the fires scheduled in [To, End).
	Kill         time.Time
	End          time.Time
	Victim       int
	VictimLeader bool
}

// Figures are what the merged record shows.
type Figures struct {
	Steady Window
	// Failover figures; zero without a kill.
	After    Window
	Failover Failover
	// OffSlot counts executions whose scheduled time is not one of the
	// job's slots (more than 1 ms away); they are counted at the nearest.
	OffSlot int64
	// PerNode counts the steady window's executions per node.
	PerNode []int64
}

// Window holds the figures of the fires scheduled in one window.
type Window struct {
	Span       time.Duration
	Expected   int64 // the jobs' slots in the window
	Ran        int64 // slots executed at least once
	Missed     int64 // slots never executed
	Duplicates int64 // slots executed more than once
	Extra      int64 // executions beyond the first of each slot
	// Retried counts the Duplicates where a later execution was the
	// library's own retry of an attempt it counted as interrupted (a
	// task that began on the killed node, whose end was never recorded).
	Retried int64
	// Lateness of each slot's first execution (start − scheduled).
	P50, P99, Max time.Duration
	// Behind counts first executions an interval or more late.
	Behind int64
	// Early counts first executions more than 1 ms before their slot.
	Early int64
}

// Failover holds the figures of the kill.
type Failover struct {
	Victim string
	Leader bool // the victim was the leader
	// Jobs is the number of jobs measured (all of them); VictimJobs how
	// many the victim ran in the two intervals before the kill.
	Jobs, VictimJobs int
	// GapP50 and GapMax: from the kill to each job's first start on
	// another node.
	GapP50, GapMax time.Duration
	// Unresumed counts jobs that never ran elsewhere before End (their
	// gap is taken to End).
	Unresumed int
	// Lost counts the slots from the kill to their job's resumption that
	// never ran; Stalled the jobs that lost any.
	Lost    int64
	Stalled int
}

// slots holds per job and slot index how often the slot ran and its
// first start.
type slots struct {
	plan  *Plan
	n     int // slots per job
	count []uint16
	first []int64
	retry []bool // a retry (attempt > 1) ran
}

func newSlots(p *Plan) *slots {
	n := int(p.End.Sub(p.Env.Anchor)/p.Env.Every) + 2
	s := &slots{plan: p, n: n, count: make([]uint16, p.Env.Jobs*n), first: make([]int64, p.Env.Jobs*n), retry: make([]bool, p.Env.Jobs*n)}
	return s
}

// at returns the slot index of scheduled for job, and whether it is
// within a millisecond of a slot.
func (s *slots) at(job int, scheduled int64) (int, bool) {
	d := scheduled - s.plan.Env.First(job).UnixNano()
	every := int64(s.plan.Env.Every)
	k := (d + every/2) / every
	if d+every/2 < 0 {
		k = -1
	}
	off := d - k*every
	return int(k), off <= int64(time.Millisecond) && off >= -int64(time.Millisecond)
}

func (s *slots) add(e Exec) bool {
	k, exact := s.at(e.Job, e.Scheduled)
	if e.Job < 0 || e.Job >= s.plan.Env.Jobs || k < 0 || k >= s.n {
		return exact
	}
	i := e.Job*s.n + k
	if s.count[i] < 1<<16-1 {
		s.count[i]++
	}
	if e.Attempt > 1 {
		s.retry[i] = true
	}
	if s.first[i] == 0 || e.Started < s.first[i] {
		s.first[i] = e.Started
	}
	return exact
}

// slotTime is the scheduled time of job's slot k.
func (s *slots) slotTime(job, k int) int64 {
	return s.plan.Env.First(job).UnixNano() + int64(k)*int64(s.plan.Env.Every)
}

// window sums the slots scheduled in [from, to).
func (s *slots) window(from, to time.Time) Window {
	w := Window{Span: to.Sub(from)}
	every := int64(s.plan.Env.Every)
	var late []time.Duration
	for job := range s.plan.Env.Jobs {
		for k := 0; k < s.n; k++ {
			at := s.slotTime(job, k)
			if at < from.UnixNano() || at >= to.UnixNano() {
				continue
			}
			w.Expected++
			c := s.count[job*s.n+k]
			if c == 0 {
				w.Missed++
				continue
			}
			w.Ran++
			if c > 1 {
				w.Duplicates++
				w.Extra += int64(c) - 1
				if s.retry[job*s.n+k] {
					w.Retried++
				}
			}
			d := s.first[job*s.n+k] - at
			late = append(late, time.Duration(d))
			switch {
			case d >= every:
				w.Behind++
			case d < -int64(time.Millisecond):
				w.Early++
			}
		}
	}
	w.P50, w.P99, w.Max = percentiles(late)
	return w
}

func percentiles(d []time.Duration) (p50, p99, max time.Duration) {
	if len(d) == 0 {
		return 0, 0, 0
	}
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100], d[len(d)-1]
}

// Analyze merges the replicas' executions into the figures of p.
func Analyze(p *Plan, execs []Exec) Figures {
	s := newSlots(p)
	f := Figures{PerNode: make([]int64, p.Nodes)}
	for _, e := range execs {
		if !s.add(e) {
			f.OffSlot++
		}
		if e.Scheduled >= p.From.UnixNano() && e.Scheduled < p.To.UnixNano() && e.Node >= 0 && e.Node < p.Nodes {
			f.PerNode[e.Node]++
		}
	}
	f.Steady = s.window(p.From, p.To)
	if !p.Kill.IsZero() {
		f.After = s.window(p.To, p.End)
		f.Failover = s.failover(execs)
	}
	return f
}
