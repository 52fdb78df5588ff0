package alert

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/sundialhq/sundial"
)

// history keeps a job's recent run durations in a ring.
type history struct {
	d    []time.Duration
	next int
}

func (h *history) add(d time.Duration, size int) {
	if len(h.d) < size {
		h.d = append(h.d, d)
		return
	}
	h.d[h.next] = d
	h.next = (h.next + 1) % size
}

// p95 returns the 95th percentile (nearest rank) of the durations.
func (h *history) p95() time.Duration {
	s := slices.Clone(h.d)
	slices.Sort(s)
	return s[int(math.Ceil(0.95*float64(len(s))))-1]
}

// running is a run that started and has not ended, as far as the events
// tell.
type running struct {
	job       string
	started   time.Time
	slowSent  bool
	threshold time.Duration // the relative threshold armed, if any
	p95       time.Duration
	factor    float64
	due       *due
	event     sundial.Event // the start, for the alert's details
}

// startedLocked tracks a run that started and, when its job has enough
// history and relative slowness is on, arms a timer at its threshold.
func (a *Alerter) startedLocked(e sundial.Event) {
	a.accountedLocked(e.JobID, e.Scheduled)
	if e.Remote { // its node watches how long it takes
		return
	}
	r := &running{job: e.JobID, started: e.Time, event: e}
	if e.Run != nil && !e.Run.Started.IsZero() {
		r.started = e.Run.Started
	}
	a.runs[e.RunID] = r
	factor := a.cfg.rules(e.JobID).SlowFactor
	h := a.history[e.JobID]
	if factor <= 0 || h == nil || len(h.d) < a.cfg.SlowSamples {
		return
	}
	r.factor, r.p95 = factor, h.p95()
	r.threshold = max(time.Duration(factor*float64(r.p95)), a.cfg.SlowMin)
	r.due = a.scheduleLocked(&due{at: r.started.Add(r.threshold), kind: dueSlow, key: e.RunID})
}

// ranLocked records a finished run's duration and forgets the run.
func (a *Alerter) ranLocked(e sundial.Event) {
	a.endedLocked(e.RunID)
	if e.Run != nil && e.Run.Started.IsZero() {
		return
	}
	h := a.history[e.JobID]
	if h == nil {
		h = &history{}
		a.history[e.JobID] = h
	}
	h.add(e.Duration, a.cfg.SlowWindow)
}

// endedLocked forgets a run and its timer.
func (a *Alerter) endedLocked(runID string) {
	if r := a.runs[runID]; r != nil {
		a.cancelLocked(r.due)
		delete(a.runs, runID)
	}
}

// slowDue reports a run still running at its relative threshold.
func (a *Alerter) slowDue(d *due) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.runs[d.key]
	if r == nil || r.due != d || r.slowSent {
		return
	}
	r.slowSent = true
	elapsed := a.clock.Now().Sub(r.started)
	detail := fmt.Sprintf("running longer than %v × its p95 of %v (over its last %d runs): threshold %v",
		r.factor, r.p95, len(a.history[r.job].d), r.threshold)
	a.alertLocked(slowMessage(r.event, elapsed, detail))
}

// slowEventLocked reports the scheduler's EventRunSlow (the absolute
// threshold), once per run.
func (a *Alerter) slowEventLocked(e sundial.Event) {
	if r := a.runs[e.RunID]; r != nil {
		if r.slowSent {
			return
		}
		r.slowSent = true
		a.cancelLocked(r.due)
	}
	detail := "running longer than the scheduler's slow-run threshold"
	if e.Run != nil && e.Run.SlowAfter > 0 {
		detail = fmt.Sprintf("running longer than its job's slow-run threshold of %v", e.Run.SlowAfter)
	}
	a.alertLocked(slowMessage(e, e.Duration, detail))
}

func slowMessage(e sundial.Event, elapsed time.Duration, detail string) Message {
	m := runMessage(KindSlow, e)
	m.Title = fmt.Sprintf("Job %s is slow: running for %v", e.JobID, elapsed.Round(time.Millisecond))
	m.Duration, m.Detail = elapsed, detail
	return m
}
