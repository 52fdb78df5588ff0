package sundial

import "time"

// Reasons recorded on runs that were accounted for but not executed.
const (
	ReasonMisfire      = "misfire"       // started later than the misfire grace time
	ReasonCoalesced    = "coalesced"     // folded into another fire of a backlog
	ReasonMaxInstances = "max instances" // the job had MaxInstances runs active
	ReasonShutdown     = "shutdown"      // cut short by Scheduler.Shutdown
	ReasonCancelled    = "cancelled"     // cancelled by a newer fire (OverlapCancelRunning)
	ReasonNodeLost     = "node lost"     // its node stopped heartbeating
	ReasonClaimLost    = "claim lost"    // claimed, but the store's answer never reached the node
)

// maxFiresPerDecision bounds the fires one decision accounts for; a longer
// backlog is worked through over the following claims.
const maxFiresPerDecision = 1000

// fireInput is what the decision for one claimed job needs.
type fireInput struct {
	due          DueJob
	now, horizon time.Time
	grace        time.Duration                     // effective misfire grace
	overdue      time.Duration                     // how late a pending run may be and still not count against a fire ahead
	jitter       func(time.Duration) time.Duration // draws a delay below its argument
	newID        func() string
	newRun       func() *Run // a zero Run to fill; nil: allocate one

	// Storage the decision may use, both of length 0: for the job's fires,
	// and for the runs of its commit (FireCommit.Runs appends to runs).
	// The schedule loop lends the same storage to every decision of a
	// round, the runs' a slice each, so that deciding allocates no slices.
	fires []time.Time
	runs  []*Run
}

// decideFires is the schedule loop's pure decision for one claimed job:
// which of its fires up to the horizon become pending runs, which are
// recorded missed or skipped and why, which running runs to cancel, and the
// next fire. Every fire up to the horizon is accounted for. An error from
// the trigger ends the job's fires (NextFire zero) and is returned.
func decideFires(in fireInput) (FireCommit, error) {
	job := in.due.Job
	c := FireCommit{JobID: job.ID, Token: in.due.Token, Runs: in.runs, slot: in.due.slot}
	fires, next, err := dueFires(job, in.horizon, in.fires)
	c.NextFire = next
	runnable := fires[:0] // the fires not missed, in fires' storage
	for _, f := range fires {
		if in.now.Sub(f) > in.grace {
			c.Runs = append(c.Runs, in.record(f, RunMissed, ReasonMisfire))
			continue
		}
		runnable = append(runnable, f)
	}
	runnable = in.coalesce(runnable, &c)
	in.admit(runnable, &c)
	return c, err
}

// dueFires appends to fires a job's fires from its NextFire up to the
// horizon (and its End), at most maxFiresPerDecision, and returns them and
// the fire after them.
func dueFires(job *Job, horizon time.Time, fires []time.Time) ([]time.Time, time.Time, error) {
	f := job.NextFire
	for !f.IsZero() && !f.After(horizon) && len(fires) < maxFiresPerDecision {
		if !job.End.IsZero() && f.After(job.End) {
			return fires, time.Time{}, nil
		}
		fires = append(fires, f)
		next, err := job.Trigger.Next(f)
		if err != nil {
			return fires, time.Time{}, err
		}
		f = next
	}
	if !job.End.IsZero() && f.After(job.End) {
		f = time.Time{}
	}
	return fires, f, nil
}

// coalesce folds the fires of a backlog (those already due) per the job's
// policy, recording the folded ones skipped. Fires that fell due while a
// lapsed claim held the job (DueJob.Lapsed) are not a backlog of the
// scheduler's making: each is kept.
func (in fireInput) coalesce(fires []time.Time, c *FireCommit) []time.Time {
	policy := in.due.Job.Coalesce
	if policy == CoalesceAll || in.backlog(fires) < 2 {
		return fires
	}
	var held, backlog, future []time.Time
	for _, f := range fires {
		switch in.fireKind(f) {
		case fireFuture:
			future = append(future, f)
		case fireHeld:
			held = append(held, f)
		default:
			backlog = append(backlog, f)
		}
	}
	keep := len(backlog) - 1
	if policy == CoalesceEarliest {
		keep = 0
	}
	for i, f := range backlog {
		if i != keep {
			c.Runs = append(c.Runs, in.record(f, RunSkipped, ReasonCoalesced))
		}
	}
	out := append(held, backlog[keep])
	return append(out, future...)
}

// backlog counts the fires already due that no lapsed claim held.
func (in fireInput) backlog(fires []time.Time) int {
	n := 0
	for _, f := range fires {
		if in.fireKind(f) == fireBacklog {
			n++
		}
	}
	return n
}

// fireKind is how coalesce sees a fire.
type fireKind uint8

const (
	fireBacklog fireKind = iota // already due, of the scheduler's making
	fireHeld                    // fell due while a lapsed claim held the job (heldByLapse)
	fireFuture                  // not due yet
)

func (in fireInput) fireKind(f time.Time) fireKind {
	switch {
	case f.After(in.now):
		return fireFuture
	case in.heldByLapse(f):
		return fireHeld
	}
	return fireBacklog
}

// heldByLapse reports whether fire f fell due while a claim that lapsed
// held its job: no node could decide it on time.
func (in fireInput) heldByLapse(f time.Time) bool {
	return !in.due.Lapsed.IsZero() && !f.After(in.due.Lapsed) && !f.After(in.now)
}

// admit turns fires into pending runs while the job has room, and applies
// its overlap policy to the rest.
func (in fireInput) admit(fires []time.Time, c *FireCommit) {
	job := in.due.Job
	limit := job.Instances()
	switch job.Overlap {
	case OverlapQueue:
		limit++
	case OverlapQueueAll:
		limit = int(^uint(0) >> 1)
	}
	// A fire decided ahead of its time (lookahead) does not count the runs
	// running now, the earlier fires of this decision, nor pending runs not
	// yet overdue: they usually start and end before it is due, and
	// ClaimRuns holds it back if they do not. (A job firing every 200 ms has
	// five fires in a 1 s lookahead; counting each against the next would
	// skip four in five.) Overdue pending runs count only behind a run
	// that has been running for as long and is known to (not
	// Unconfirmed): MaxInstances bounds runs running, and otherwise the
	// pending ones are about to start, one after another (they waited for
	// a slot, or for a dead node's run to be recovered). Fires already
	// due count them all.
	queued := in.due.Pending
	if pd := in.due.PendingDue; queued > 0 && (!pd.IsZero() && !pd.Before(in.now.Add(-in.overdue)) || !in.busy()) {
		queued = 0
	}
	waiting := 0 // due fires admitted by this decision
	cancellable := in.due.Running
	for _, f := range fires {
		due := !f.After(in.now)
		active := queued
		if due {
			active = waiting + in.due.Pending + len(in.due.Running)
		}
		switch {
		case active < limit:
			if due && !in.heldByLapse(f) { // held fires queue on top
				waiting++
			}
		case job.Overlap == OverlapCancelRunning && len(cancellable) > 0:
			c.Cancel = append(c.Cancel, cancellable[0].ID)
			cancellable = cancellable[1:]
		case in.due.Unconfirmed > 0 || in.heldByLapse(f):
			// What fills the job may be runs of a node that died holding
			// them, or the fire waited for a dead node's claim: queue it
			// rather than lose it. ClaimRuns starts it once the runs ahead
			// of it end or their node's heartbeat expires.
		default:
			c.Runs = append(c.Runs, in.record(f, RunSkipped, ReasonMaxInstances))
			continue
		}
		c.Runs = append(c.Runs, in.pending(f))
	}
}

// busy reports whether the job has a run that has been running for longer
// than the overdue allowance, and not on a node that may have died. (The
// store counts Unconfirmed runs, not which: they are taken to be the
// long-running ones.)
func (in fireInput) busy() bool {
	long := 0
	for _, r := range in.due.Running {
		if r.Started.Before(in.now.Add(-in.overdue)) {
			long++
		}
	}
	return long > in.due.Unconfirmed
}

// record is a run for a fire that was accounted for but not executed.
func (in fireInput) record(f time.Time, state RunState, reason string) *Run {
	r := in.pending(f)
	r.State, r.Reason, r.Finished = state, reason, in.now
	return r
}

// pending is a new first attempt of a fire.
func (in fireInput) pending(f time.Time) *Run {
	job := in.due.Job
	var r *Run
	if in.newRun != nil {
		r = in.newRun()
	} else {
		r = new(Run)
	}
	*r = Run{ID: in.newID(), JobID: job.ID, Task: job.Task, Args: job.Args, Scheduled: f, Due: f,
		Attempt: 1, State: RunPending, Executor: job.Executor, Timeout: job.Timeout, SlowAfter: job.SlowAfter, Created: in.now}
	if j := job.JitterBound(); j > 0 && in.jitter != nil {
		r.Jitter = in.jitter(j)
		r.Due = f.Add(r.Jitter)
	}
	return r
}
