package sundial

import (
	"context"
	"slices"
	"time"
)

// maxIdle is the longest the schedule loop sleeps with nothing to do when
// the store pushes notices.
const maxIdle = time.Minute

// scheduleLoop turns due fires into runs until ctx is done: it claims due
// jobs in batches, decides their fires, commits, and sleeps until the next
// fire (less the lookahead) or a notice.
func (s *Scheduler) scheduleLoop(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		if s.isPaused() {
			s.sleep(ctx, s.cfg.PollInterval, s.wakeSchedule)
			continue
		}
		more, err := s.scheduleRound(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 50*time.Millisecond), 5*time.Second)
			s.log.Warn("schedule_round_failed", "err", err, "retry_in", backoff)
			s.sleep(ctx, backoff, nil)
			continue
		}
		backoff = 0
		if !more {
			s.sleepUntil(ctx, s.wakeAt(ctx), s.wakeSchedule)
		}
	}
}

// scheduleRound claims one batch of due jobs and commits their fires. It
// reports whether the batch was full (there may be more).
func (s *Scheduler) scheduleRound(ctx context.Context) (bool, error) {
	now := s.clock.Now()
	horizon := now.Add(s.cfg.Lookahead)
	due, err := s.store.ClaimDueJobs(ctx, JobClaim{Node: s.cfg.NodeID, Now: now, Horizon: horizon,
		Lease: s.cfg.JobLease, Limit: s.cfg.ClaimBatch})
	if err != nil || len(due) == 0 {
		return false, err
	}
	// The last round's array: no store keeps the commits it was given, and
	// each is set below.
	commits := slices.Grow(s.commits[:0], len(due))[:len(due)]
	newID := func() string { return NewRunID(now) }
	jitter, newRun := s.jitter, s.spareRun // made once a round, not once a job
	// Each commit's runs take the next part of one array, most one run
	// each: a commit that outgrows its part gets an array of its own.
	slab := slices.Grow(s.runSlab[:0], len(due))
	for i, d := range due {
		c, err := decideFires(fireInput{due: d, now: now, horizon: horizon, grace: s.graceOf(d.Job),
			overdue: s.cfg.Lookahead / 2, jitter: jitter, newID: newID, newRun: newRun,
			fires: s.fireBuf(), runs: slab[len(slab):len(slab)]})
		if err != nil {
			s.log.Error("trigger_failed", "job", d.Job.ID, "err", err)
		}
		if n := len(slab) + len(c.Runs); n <= cap(slab) && len(c.Runs) > 0 && &c.Runs[0] == &slab[:n][len(slab)] {
			slab = slab[:n]                           // the runs went into the slab
			c.Runs = c.Runs[:len(c.Runs):len(c.Runs)] // an append to them would overwrite the next commit's
		}
		commits[i] = c
	}
	defer func() { clear(slab[:cap(slab)]); s.runSlab = slab[:0] }() // past len too: a commit that outgrew its part wrote there
	results, err := s.store.CommitFires(ctx, commits, now)
	if err != nil {
		return false, err
	}
	for i, res := range results {
		if !res.Lost {
			for _, id := range commits[i].Cancel {
				s.worker.cancelRun(id, errCancelled) // a local run stops now; others at their heartbeat
			}
		}
	}
	s.fireEvents(results)
	if s.mem != nil { // nothing here keeps the claimed jobs
		s.mem.releaseDue(due)
	}
	clear(commits)
	s.commits = commits[:0]
	return len(due) == s.cfg.ClaimBatch, nil
}

// fireBuf returns the decisions' storage for a job's fires, length 0:
// room for a job firing every 16ms, with the default Lookahead.
func (s *Scheduler) fireBuf() []time.Time {
	if s.fires == nil {
		s.fires = make([]time.Time, 0, 64)
	}
	return s.fires[:0]
}

// spareRun returns a Run for the schedule loop to fill: one that an
// earlier round left over (fireEvents), else a new one.
func (s *Scheduler) spareRun() *Run {
	if r := takeSpare(&s.spareRuns); r != nil {
		return r
	}
	return new(Run)
}

func (s *Scheduler) graceOf(j *Job) time.Duration {
	if j.MisfireGrace > 0 {
		return j.MisfireGrace
	}
	return s.cfg.MisfireGrace
}

// jitter draws a delay in [0, bound).
func (s *Scheduler) jitter(bound time.Duration) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return time.Duration(s.cfg.Rand.Int64N(int64(bound)))
}

// wakeAt is when the schedule loop must look again: the next fire less
// half the lookahead (a whole one while the worker holds no run), and no
// later than the idle limit.
func (s *Scheduler) wakeAt(ctx context.Context) time.Time {
	limit := maxIdle
	if !s.noticesLive() {
		limit = s.cfg.PollInterval
	}
	now := s.clock.Now()
	next, err := s.store.NextFireTime(ctx)
	switch {
	case err != nil: // look again soon, not after the idle limit
		s.log.Warn("next_fire_time_failed", "err", err)
		return now.Add(min(limit, s.cfg.PollInterval))
	case next.IsZero():
		return now.Add(limit)
	}
	// Wake half a lookahead before the fire must be decided, so deciding
	// the next fires does not coincide with the worker starting this
	// second's runs. A fire that close was claimed by the round just done,
	// so a next that close is the end of another node's claim, to wake
	// at: waking early would claim in a loop until it ends.
	at := next.Add(-s.cfg.Lookahead / 2)
	if early := next.Add(-s.cfg.Lookahead); early.After(now) && s.worker.idle() {
		// No run is held or running, so deciding a whole lookahead ahead
		// competes with no launch, and a burst due at one instant (a
		// hundred thousand one-off jobs) has the time to be decided before
		// it.
		at = early
	}
	if !at.After(now) {
		at = next
	}
	if at.After(now.Add(limit)) {
		return now.Add(limit)
	}
	return at
}

// noticesLive reports whether the store pushes notices now, so the loop
// may wait for them instead of polling.
func (s *Scheduler) noticesLive() bool {
	if _, ok := s.store.(Notifier); !ok {
		return false
	}
	h, ok := s.store.(NoticeHealth)
	return !ok || h.NoticesLive()
}

// fireEvents reports the runs a commit created, and hands them to the
// worker. On the memory store, which keeps copies, the runs no event
// carries are kept for the next round's decisions (spareRun).
func (s *Scheduler) fireEvents(results []CommitResult) {
	for _, res := range results {
		s.worker.created(res.Inserted...)
		for _, r := range res.Inserted {
			switch typ := createdEvent(r); {
			case s.wants(typ):
				s.emit(Event{Type: typ, JobID: r.JobID, RunID: r.ID, Scheduled: r.Scheduled, Attempt: r.Attempt, Run: r})
			case s.mem != nil && len(s.spareRuns) < maxSpare:
				*r = Run{}
				s.spareRuns = append(s.spareRuns, r)
			}
		}
	}
}

// createdEvent is the event that reports a run a fire created.
func createdEvent(r *Run) EventType {
	switch {
	case r.State == RunPending:
		return EventJobSubmitted
	case r.State == RunMissed:
		return EventJobMissed
	case r.Reason == ReasonMaxInstances:
		return EventJobMaxInstances
	}
	return EventJobSkipped
}
