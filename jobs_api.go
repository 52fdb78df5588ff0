package sundial

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// AddOptions tune AddJob.
type AddOptions struct {
	// OnConflict says what to do when a job with the ID exists. AddJob with
	// nil options refuses (ConflictError), as APScheduler's add_job does
	// without replace_existing.
	OnConflict ConflictPolicy
}

// AddJob validates job, computes its first fire (unless job.NextFire is
// set) and stores it. It returns the job as stored: with its name, anchor,
// first fire, version and times filled in, or, under
// ConflictKeepExisting, the job that was there. It returns a value, not a
// pointer, so that a service registering a million jobs allocates nothing
// per job but what the store keeps. It fails with a *FieldError for a bad
// job or an unregistered task ("task"), args the task cannot decode
// ("args"), and ErrConflict when the ID exists and the policy refuses.
// Nothing is stored on error.
func (s *Scheduler) AddJob(ctx context.Context, job *Job, opts *AddOptions) (Job, error) {
	policy := ConflictError
	if opts != nil {
		policy = opts.OnConflict
	}
	if policy > ConflictError {
		return Job{}, invalid("conflict", "unknown policy %d", policy)
	}
	var hash uint64
	if s.mem != nil && job != nil {
		hash = s.mem.warmJob(job.ID) // while prepare works
	}
	now := s.clock.Now()
	var j Job
	if err := s.prepare(job, now, &j); err != nil {
		return Job{}, err
	}
	if policy == ConflictReplace && job.NextFire.IsZero() {
		s.keepSchedule(ctx, &j, job.Trigger)
	}
	if s.mem != nil { // it copies what it keeps, so j stays ours
		if err := s.mem.addOwnedJob(ctx, &j, policy, now, hash); err != nil {
			return Job{}, err
		}
	} else {
		own := j // prepare made j's slices and map its own: a shallow copy is the store's
		stored, err := s.store.AddJob(ctx, &own, policy, now)
		if err != nil {
			return Job{}, err
		}
		j = *stored
	}
	s.jobStored(&j)
	return j, nil
}

// jobStored reports a job AddJob or AddJobs stored: added, or modified
// when it replaced one (its Version is past the first).
func (s *Scheduler) jobStored(j *Job) {
	typ := EventJobAdded
	if j.Version > 1 {
		typ = EventJobModified
	}
	if s.wants(typ) {
		s.emit(Event{Type: typ, JobID: j.ID, Job: j.Clone()})
	}
}

// prepare checks a job against the registered tasks and makes *j a copy
// of it with what the caller may leave out filled in, as of now: the
// name, the anchor of an unanchored interval and the first fire. j may be
// job.
func (s *Scheduler) prepare(job *Job, now time.Time, j *Job) error {
	if err := job.Validate(); err != nil { // a nil job too
		return err
	}
	t, ok := s.taskNamed(job.Task)
	if !ok {
		return invalid("task", "%q is not registered (register it with Handle or HandleFunc first)", job.Task)
	}
	if t.checkArgs != nil {
		if err := t.checkArgs(job.Args); err != nil {
			return err
		}
	}
	if !s.worker.hasPool(job.executor()) {
		return invalid("executor", "no pool named %q (configure it in Config.Executors or add it with AddExecutor)", job.Executor)
	}
	job.copyTo(j)
	if j.Name == "" {
		j.Name = j.ID
	}
	if iv, ok := j.Trigger.(*IntervalTrigger); ok && iv.Start().IsZero() {
		j.Trigger = iv.Anchored(now.Add(iv.Interval()))
	}
	if j.NextFire.IsZero() {
		next, err := firstFire(j, now)
		if err != nil {
			return err
		}
		j.NextFire = next
	}
	return nil
}

// keepSchedule lets a job re-declared on start-up (replace, no NextFire)
// keep its stored schedule when it did not change: the stored trigger,
// anchor included, and the stored next fire, so fires due while the
// process was down are decided by the job's misfire policy instead of
// being dropped. declared is the trigger as the caller gave it.
func (s *Scheduler) keepSchedule(ctx context.Context, j *Job, declared Trigger) {
	old, err := s.store.GetJob(ctx, j.ID)
	if err != nil || !old.Start.Equal(j.Start) || !old.End.Equal(j.End) || !sameSchedule(old.Trigger, declared) {
		return
	}
	j.Trigger, j.NextFire = old.Trigger, old.NextFire
}

// sameSchedule reports whether declared fires as stored does. An
// unanchored interval matches a stored one of the same period, end and
// jitter whatever its anchor: the scheduler anchored it when it was added.
func sameSchedule(stored, declared Trigger) bool {
	if d, ok := declared.(*IntervalTrigger); ok && d.start.IsZero() {
		st, ok := stored.(*IntervalTrigger)
		return ok && st.every == d.every && st.end.Equal(d.end) && st.jitter == d.jitter
	}
	return sameTrigger(stored, declared)
}

func (j *Job) executor() string { return poolName(j.Executor) }

func (r *Run) executor() string { return poolName(r.Executor) }

// poolName is the pool an executor names: "" is the default pool.
func poolName(executor string) string {
	if executor == "" {
		return "default"
	}
	return executor
}

// firstFire is a job's first fire at or after now (and Start). A date
// trigger keeps its time even when it has passed: the misfire grace time
// then decides whether it runs.
func firstFire(j *Job, now time.Time) (time.Time, error) {
	if d, ok := j.Trigger.(*DateTrigger); ok {
		return d.At(), nil
	}
	from := now
	if j.Start.After(from) {
		from = j.Start
	}
	next, err := j.Trigger.Next(from.Add(-time.Nanosecond))
	if err != nil {
		return time.Time{}, &FieldError{Field: "trigger", Problem: err.Error(), Err: err}
	}
	if !j.End.IsZero() && next.After(j.End) {
		return time.Time{}, nil
	}
	return next, nil
}

// JobOptions are the options of a job declared in code with Schedule; see
// Job for what each means.
type JobOptions struct {
	ID           string // defaults to the function's qualified name, such as "main.sendReport"
	Name         string
	Args         any // marshalled to JSON
	Start, End   time.Time
	NextFire     time.Time // overrides the first fire
	MisfireGrace time.Duration
	Coalesce     CoalescePolicy
	MaxInstances int
	Overlap      OverlapPolicy
	Executor     string
	Jitter       time.Duration
	Timeout      time.Duration
	Retry        RetryPolicy
	SlowAfter    time.Duration
	Paused       bool
	Tags         []string
	Metadata     map[string]string
	// OnConflict meets a stored job with the same ID; the zero value,
	// ConflictReplace, lets a restart re-declare its jobs without
	// duplicates (the stored next fire is kept when the trigger is the
	// same).
	OnConflict ConflictPolicy
}

// Schedule declares a job in code, as APScheduler's decorator does: fn is
// registered as a task named after the job's ID, which defaults to fn's
// qualified name. opts may be nil. It returns the job as stored, as AddJob
// does. It fails with a *FieldError when fn is an anonymous function and
// opts gives no ID, when args do not marshal, or when the job is invalid.
func (s *Scheduler) Schedule(ctx context.Context, fn TaskFunc, trigger Trigger, opts *JobOptions) (Job, error) {
	if opts == nil {
		opts = &JobOptions{}
	}
	if fn == nil {
		return Job{}, invalid("task", "nil function")
	}
	id := opts.ID
	if id == "" {
		if id = funcName(fn); id == "" {
			return Job{}, invalid("id", "an anonymous function needs an explicit ID in JobOptions")
		}
	}
	job, err := opts.job(id, trigger)
	if err != nil {
		return Job{}, err
	}
	if err := s.Handle(id, fn); err != nil && !errors.Is(err, ErrConflict) {
		return Job{}, err
	}
	return s.AddJob(ctx, job, &AddOptions{OnConflict: opts.OnConflict})
}

func (o *JobOptions) job(id string, trigger Trigger) (*Job, error) {
	j := &Job{ID: id, Name: o.Name, Task: id, Trigger: trigger, Start: o.Start, End: o.End, NextFire: o.NextFire,
		MisfireGrace: o.MisfireGrace, Coalesce: o.Coalesce, MaxInstances: o.MaxInstances, Overlap: o.Overlap,
		Executor: o.Executor, Jitter: o.Jitter, Timeout: o.Timeout, Retry: o.Retry, SlowAfter: o.SlowAfter,
		Paused: o.Paused, Tags: o.Tags, Metadata: o.Metadata}
	if o.Args != nil {
		raw, err := json.Marshal(o.Args)
		if err != nil {
			return nil, &FieldError{Field: "args", Problem: "do not marshal to JSON: " + err.Error(), Err: err}
		}
		j.Args = raw
	}
	return j, nil
}

// GetJob returns the job with the given ID, or ErrNotFound.
func (s *Scheduler) GetJob(ctx context.Context, id string) (*Job, error) {
	return s.store.GetJob(ctx, id)
}

// ListJobs returns the jobs matching f, ordered by ID.
func (s *Scheduler) ListJobs(ctx context.Context, f JobFilter) ([]*Job, error) {
	return s.store.ListJobs(ctx, f)
}

// UpdateJob changes a job: change receives a copy to edit (any option but
// the ID), and the result is validated and stored. A change of trigger,
// start or end recomputes the next fire from now unless change set it.
// Concurrent changes are retried. It fails with ErrNotFound, change's own
// error, or a *FieldError for an invalid result; nothing is stored then.
func (s *Scheduler) UpdateJob(ctx context.Context, id string, change func(*Job) error) (*Job, error) {
	for range 16 {
		old, err := s.store.GetJob(ctx, id)
		if err != nil {
			return nil, err
		}
		j := old.Clone()
		if err := change(j); err != nil {
			return nil, err
		}
		if j.ID != id {
			return nil, invalid("id", "cannot change a job's ID (%q to %q)", id, j.ID)
		}
		if j.NextFire.Equal(old.NextFire) && (!sameTrigger(j.Trigger, old.Trigger) || !j.Start.Equal(old.Start) || !j.End.Equal(old.End)) {
			j.NextFire = time.Time{}
		}
		now := s.clock.Now()
		if err := s.prepare(j, now, j); err != nil {
			return nil, err
		}
		j.Version = old.Version
		stored, err := s.store.UpdateJob(ctx, j, now)
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return nil, err
		}
		s.emit(Event{Type: EventJobModified, JobID: id, Job: stored.Clone()})
		return stored, nil
	}
	return nil, fmt.Errorf("sundial: update job %s: %w (changed concurrently 16 times)", id, ErrConflict)
}

// Reschedule gives a job a new trigger; its next fire is recomputed.
func (s *Scheduler) Reschedule(ctx context.Context, id string, trigger Trigger) (*Job, error) {
	return s.UpdateJob(ctx, id, func(j *Job) error {
		j.Trigger, j.NextFire = trigger, time.Time{}
		return nil
	})
}

// PauseJob stops a job from firing until ResumeJob.
func (s *Scheduler) PauseJob(ctx context.Context, id string) (*Job, error) {
	return s.UpdateJob(ctx, id, func(j *Job) error { j.Paused = true; return nil })
}

// ResumeJob lets a paused job fire again, from its next fire after now.
func (s *Scheduler) ResumeJob(ctx context.Context, id string) (*Job, error) {
	return s.UpdateJob(ctx, id, func(j *Job) error {
		j.Paused, j.NextFire = false, time.Time{}
		return nil
	})
}

// RemoveJob deletes a job; its history stays. It fails with ErrNotFound.
func (s *Scheduler) RemoveJob(ctx context.Context, id string) error {
	if err := s.store.RemoveJob(ctx, id); err != nil {
		return err
	}
	s.emit(Event{Type: EventJobRemoved, JobID: id})
	return nil
}

// RemoveAllJobs deletes every job and returns how many there were.
func (s *Scheduler) RemoveAllJobs(ctx context.Context) (int, error) {
	n, err := s.store.RemoveAllJobs(ctx)
	if err == nil {
		s.emit(Event{Type: EventAllJobsRemoved})
	}
	return n, err
}

// RunNow creates a manual run of a job, due now, without touching its
// schedule. It fails with ErrNotFound.
func (s *Scheduler) RunNow(ctx context.Context, id string) (*Run, error) {
	job, err := s.store.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	run := &Run{ID: NewRunID(now), JobID: id, Task: job.Task, Args: job.Args, Scheduled: now, Due: now,
		Manual: true, Attempt: 1, State: RunPending, Executor: job.Executor, Timeout: job.Timeout, SlowAfter: job.SlowAfter, Created: now}
	added, err := s.store.AddRuns(ctx, []*Run{run})
	if err != nil {
		return nil, err
	}
	s.submitted(added)
	return run, nil
}

// maxBackfill bounds the fires one Backfill call creates.
const maxBackfill = 100000

// Backfill creates runs for a job's fires in [from, to), each keyed by its
// scheduled time, so fires that already ran (or a second backfill) run
// nothing twice. It returns the runs created. It fails with ErrNotFound, or
// a *FieldError when to is not after from or the range holds more than
// 100,000 fires.
func (s *Scheduler) Backfill(ctx context.Context, id string, from, to time.Time) ([]*Run, error) {
	if !to.After(from) {
		return nil, invalid("to", "%s is not after from %s", formatTime(to), formatTime(from))
	}
	job, err := s.store.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	var runs []*Run
	f, err := job.Trigger.Next(from.Add(-time.Nanosecond))
	for ; err == nil && !f.IsZero() && f.Before(to); f, err = job.Trigger.Next(f) {
		if len(runs) == maxBackfill {
			return nil, invalid("to", "the range holds more than %d fires", maxBackfill)
		}
		runs = append(runs, &Run{ID: NewRunID(now), JobID: id, Task: job.Task, Args: job.Args, Scheduled: f, Due: now,
			Attempt: 1, State: RunPending, Executor: job.Executor, Timeout: job.Timeout, SlowAfter: job.SlowAfter, Created: now})
	}
	if err != nil {
		return nil, err
	}
	added, err := s.store.AddRuns(ctx, runs)
	if err != nil {
		return nil, err
	}
	s.submitted(added)
	return added, nil
}

// submitted reports runs added outside the schedule (run now, backfill),
// and hands them to the worker.
func (s *Scheduler) submitted(runs []*Run) {
	for _, r := range runs {
		s.emit(Event{Type: EventJobSubmitted, JobID: r.JobID, RunID: r.ID, Scheduled: r.Scheduled, Attempt: r.Attempt, Run: r})
	}
	s.worker.created(runs...)
}

// GetRun returns a run by ID, or ErrNotFound.
func (s *Scheduler) GetRun(ctx context.Context, id string) (*Run, error) {
	return s.store.GetRun(ctx, id)
}

// ListRuns returns the runs matching f, newest first.
func (s *Scheduler) ListRuns(ctx context.Context, f RunFilter) ([]*Run, error) {
	return s.store.ListRuns(ctx, f)
}
