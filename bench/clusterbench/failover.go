package clusterbench

import (
	"strconv"
	"time"
)

// failover measures the kill. Every job counts: a leader schedules them
// all, and in a leaderless library any job's next fire may be the one the
// killed node had claimed, locked or was holding. For each job it takes
// the time from the kill to the job's first start on another node, and
// counts the job's slots in between that never ran.
func (s *slots) failover(execs []Exec) Failover {
	p := s.plan
	kill, every := p.Kill.UnixNano(), int64(p.Env.Every)
	f := Failover{Victim: nodeName(p.Victim), Leader: p.VictimLeader, Jobs: p.Env.Jobs}
	ranOnVictim := make([]bool, p.Env.Jobs)
	resume := make([]int64, p.Env.Jobs)
	for _, e := range execs {
		if e.Job < 0 || e.Job >= p.Env.Jobs {
			continue
		}
		switch {
		case e.Node == p.Victim && e.Started >= kill-2*every && e.Started < kill:
			ranOnVictim[e.Job] = true
		case e.Node != p.Victim && e.Started >= kill && (resume[e.Job] == 0 || e.Started < resume[e.Job]):
			resume[e.Job] = e.Started
		}
	}
	var gaps []time.Duration
	for job := range p.Env.Jobs {
		if ranOnVictim[job] {
			f.VictimJobs++
		}
		until := resume[job]
		if until == 0 {
			f.Unresumed++
			until = p.End.UnixNano()
		}
		gaps = append(gaps, time.Duration(until-kill))
		lost := s.neverRan(job, kill, until)
		f.Lost += lost
		if lost > 0 {
			f.Stalled++
		}
	}
	f.GapP50, _, f.GapMax = percentiles(gaps)
	return f
}

// neverRan counts job's slots scheduled in [from, to) that never ran.
func (s *slots) neverRan(job int, from, to int64) int64 {
	var n int64
	for k := 0; k < s.n; k++ {
		if at := s.slotTime(job, k); at >= from && at < to && s.count[job*s.n+k] == 0 {
			n++
		}
	}
	return n
}

func nodeName(i int) string { return "node-" + strconv.Itoa(i) }
