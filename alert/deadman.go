package alert

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sundialhq/sundial"
)

// fireKey identifies a fire: a job and a scheduled time.
type fireKey struct {
	job string
	at  int64 // the scheduled time, in Unix nanoseconds
}

func keyOf(job string, scheduled time.Time) fireKey { return fireKey{job, scheduled.UnixNano()} }

// expected is a fire that should start by deadline: the dead-man's switch.
type expected struct {
	scheduled time.Time
	start     time.Time // when it was due to start: scheduled plus jitter, or a retry's backoff
	deadline  time.Time
	run       string // the run, once one was created
	attempt   int
	listed    bool // known from the job's NextFire only, not from a run
	due       *due
}

// expectLocked expects a job's fire (ex.scheduled) to start by ex.start
// plus the job's grace. A fire known from a run replaces one known from
// the job list, not the other way round.
func (a *Alerter) expectLocked(job string, want expected) {
	grace := a.graceFor(job)
	if grace < 0 || want.scheduled.IsZero() {
		return
	}
	k := keyOf(job, want.scheduled)
	ex := a.fires[k]
	if want.listed {
		if _, done := a.reported[k]; done || (ex != nil && !ex.listed) {
			return // known from a run, or a stale NextFire already reported
		}
	}
	if ex == nil {
		ex = &expected{}
		a.fires[k] = ex
	}
	a.cancelLocked(ex.due)
	ex.scheduled, ex.listed, ex.run, ex.attempt = want.scheduled, want.listed, want.run, want.attempt
	ex.start = later(want.start, want.scheduled)
	ex.deadline = ex.start.Add(grace)
	ex.due = a.scheduleLocked(&due{at: ex.deadline, kind: dueFire, fire: k})
	if want.listed {
		a.listed[job] = k
	}
}

// graceFor is the job's grace: its rule, else the longer of the Config's
// and the job's MisfireGrace.
func (a *Alerter) graceFor(job string) time.Duration {
	if g := a.cfg.Jobs[job].Grace; g != 0 {
		return g
	}
	if a.cfg.Grace < 0 {
		return a.cfg.Grace
	}
	return max(a.cfg.Grace, a.graces[job])
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// submittedLocked expects a pending run's fire to start by its Due plus
// grace (EventJobSubmitted, EventRunRetrying). Manual runs (RunNow,
// backfills) promise no time, so none is expected of them.
func (a *Alerter) submittedLocked(e sundial.Event) {
	want := expected{scheduled: e.Scheduled, start: e.Scheduled, run: e.RunID, attempt: e.Attempt}
	if e.Run != nil {
		if e.Run.Manual {
			return
		}
		want.start = e.Run.Due
	}
	a.expectLocked(e.JobID, want)
}

// accountedLocked forgets an expected fire that started or was recorded
// missed or skipped.
func (a *Alerter) accountedLocked(job string, scheduled time.Time) {
	k := keyOf(job, scheduled)
	if ex := a.fires[k]; ex != nil {
		a.cancelLocked(ex.due)
		delete(a.fires, k)
	}
	if a.listed[job] == k {
		delete(a.listed, job)
	}
}

// jobLocked expects a job's next fire, from the job list or a job event.
// A user's change (changed) withdraws the fire expected before it.
func (a *Alerter) jobLocked(j *sundial.Job, changed bool) {
	if j == nil {
		return
	}
	if j.MisfireGrace > a.cfg.Grace {
		a.graces[j.ID] = j.MisfireGrace
	} else {
		delete(a.graces, j.ID)
	}
	if old, ok := a.listed[j.ID]; ok && (changed || j.Paused || j.NextFire.IsZero()) && old != keyOf(j.ID, j.NextFire) {
		if ex := a.fires[old]; ex != nil && ex.listed {
			a.accountedLocked(j.ID, ex.scheduled)
		}
	}
	if j.Paused || j.NextFire.IsZero() {
		return
	}
	a.expectLocked(j.ID, expected{scheduled: j.NextFire, start: j.NextFire.Add(j.JitterBound()), listed: true})
}

// jobRemovedLocked forgets the fires expected from a removed job's
// schedule, and its durations; runs already created still run, and are
// still expected.
func (a *Alerter) jobRemovedLocked(job string) {
	if k, ok := a.listed[job]; ok {
		if ex := a.fires[k]; ex != nil && ex.listed {
			a.accountedLocked(job, ex.scheduled)
		}
		delete(a.listed, job)
	}
	delete(a.graces, job)
	delete(a.history, job)
}

func (a *Alerter) allJobsRemovedLocked() {
	for job := range a.listed {
		a.jobRemovedLocked(job)
	}
}

// missedEventLocked reports the scheduler's EventJobMissed, once per fire.
func (a *Alerter) missedEventLocked(e sundial.Event) {
	a.accountedLocked(e.JobID, e.Scheduled)
	if a.reportedLocked(keyOf(e.JobID, e.Scheduled)) || e.Remote {
		return
	}
	m := runMessage(KindMissed, e)
	m.Title = fmt.Sprintf("Job %s missed its fire at %s", e.JobID, formatTime(e.Scheduled))
	m.Detail = "it could not start within its misfire grace time, so it was recorded missed"
	a.alertLocked(m)
}

// reportedLocked reports whether a fire was already alerted missed, and
// notes that it now is.
func (a *Alerter) reportedLocked(k fireKey) bool {
	if _, ok := a.reported[k]; ok {
		return true
	}
	now := a.clock.Now()
	if len(a.reported) >= 4096 {
		for old, at := range a.reported {
			if now.Sub(at) > time.Hour {
				delete(a.reported, old)
			}
		}
	}
	a.reported[k] = now
	return false
}

// fireDue checks an expected fire whose grace ended. With a scheduler
// attached it asks the store first, since the run may have started on
// another node (events reach only the node that emits them).
func (a *Alerter) fireDue(d *due) {
	a.mu.Lock()
	ex := a.fires[d.fire]
	if ex == nil || ex.due != d {
		a.mu.Unlock()
		return
	}
	delete(a.fires, d.fire)
	if a.listed[d.fire.job] == d.fire {
		delete(a.listed, d.fire.job)
	}
	sched := a.sched
	a.mu.Unlock()
	detail, ok := a.confirm(sched, d.fire.job, ex)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reportedLocked(d.fire) {
		return
	}
	m := Message{Kind: KindMissed, JobID: d.fire.job, RunID: ex.run, Attempt: ex.attempt, Scheduled: ex.scheduled,
		Title:  fmt.Sprintf("Job %s missed its fire at %s", d.fire.job, formatTime(ex.scheduled)),
		Detail: detail}
	a.alertLocked(m)
}

// confirm decides whether an expected fire that did not start (as far as
// this node's events tell) is to be reported, and why.
func (a *Alerter) confirm(s *sundial.Scheduler, job string, ex *expected) (string, bool) {
	late := fmt.Sprintf("no run had started by %s, %v after it was due", formatTime(ex.deadline), ex.deadline.Sub(ex.start))
	if s == nil {
		return late, true
	}
	ctx, cancel := context.WithTimeout(a.life, a.cfg.Timeout)
	defer cancel()
	runs, err := s.ListRuns(ctx, sundial.RunFilter{JobID: job, From: ex.scheduled, To: ex.scheduled.Add(1), Limit: 20})
	if err != nil {
		return late + "; the store could not be asked: " + err.Error(), a.life.Err() == nil
	}
	pending := false
	for _, r := range runs {
		switch {
		case !r.Started.IsZero() || r.State == sundial.RunSkipped:
			return "", false
		case r.State == sundial.RunMissed:
			return "it could not start within its misfire grace time, so it was recorded missed", true
		case r.State == sundial.RunPending:
			pending = true
		}
	}
	if pending {
		return late + ": its run is pending, but no worker started it", true
	}
	if ex.listed && a.withdrawn(ctx, s, job, ex) {
		return "", false
	}
	return late + ": no scheduler created its run (is one running?)", true
}

// withdrawn reports whether a fire expected from the job list, of which
// the store holds no record, is no longer due: the job was removed or
// paused, or its next fire moved (a scheduler that fires leaves a record,
// so the move was a change to the job).
func (a *Alerter) withdrawn(ctx context.Context, s *sundial.Scheduler, job string, ex *expected) bool {
	j, err := s.GetJob(ctx, job)
	if errors.Is(err, sundial.ErrNotFound) {
		return true
	}
	return err == nil && (j.Paused || !j.NextFire.Equal(ex.scheduled))
}

// poll reads the attached scheduler's job list and expects the next fires
// due before the poll after next.
func (a *Alerter) poll() {
	a.mu.Lock()
	s := a.sched
	a.mu.Unlock()
	if s == nil {
		return
	}
	horizon := a.clock.Now().Add(2 * a.cfg.PollInterval)
	err := a.eachJob(s, func(j *sundial.Job) {
		if !j.NextFire.After(horizon) {
			a.mu.Lock()
			a.jobLocked(j, false)
			a.mu.Unlock()
		}
	})
	if err != nil && a.life.Err() == nil {
		a.log.Warn("alert_list_jobs_failed", "err", err)
	}
	a.mu.Lock()
	a.scheduleLocked(&due{at: a.clock.Now().Add(a.cfg.PollInterval), kind: duePoll})
	a.mu.Unlock()
}

// eachJob calls fn for each unpaused job, a page at a time.
func (a *Alerter) eachJob(s *sundial.Scheduler, fn func(*sundial.Job)) error {
	active := false
	f := sundial.JobFilter{Paused: &active, Limit: 500}
	for {
		ctx, cancel := context.WithTimeout(a.life, a.cfg.Timeout)
		jobs, err := s.ListJobs(ctx, f)
		cancel()
		if err != nil {
			return err
		}
		for _, j := range jobs {
			fn(j)
		}
		if len(jobs) < f.Limit {
			return nil
		}
		f.After = jobs[len(jobs)-1].ID
	}
}
