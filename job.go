package sundial

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"
)

// Job is a schedule: a task, its arguments, a trigger and options. Jobs are
// values; the store keeps the truth, and methods that change a job take and
// return copies.
type Job struct {
	ID   string // unique; defaults to the task function's qualified name for code-declared jobs
	Name string // human-readable; defaults to ID
	Task string // name of a registered task
	Args json.RawMessage

	Trigger Trigger
	// Start and End bound the fires: none before Start, none after End.
	Start, End time.Time
	// NextFire is the next scheduled fire. Set it when adding a job to
	// override the first fire (APScheduler's next_run_time); the store
	// maintains it afterwards. Zero on a stored job means it will not fire
	// again.
	NextFire time.Time

	// MisfireGrace is how late a fire may start and still run; later fires
	// are recorded missed. Zero means the scheduler's default
	// (Config.MisfireGrace).
	MisfireGrace time.Duration
	// Coalesce says what to do with a backlog of due fires.
	Coalesce CoalescePolicy
	// MaxInstances bounds the runs of this job running at once across the
	// cluster. Zero means 1.
	MaxInstances int
	// Overlap says what a fire does when MaxInstances runs are active.
	// On a shared store, runs of a node that has not heartbeated since it
	// started them do not count as active: the node may have died
	// holding them, so a fire they would turn away waits for them
	// instead (for at most the node's HeartbeatTTL).
	Overlap OverlapPolicy
	// Executor names the pool that runs the job; "" means "default".
	Executor string
	// Jitter, when set, overrides the trigger's jitter: the upper bound of
	// a random delay added to each fire.
	Jitter time.Duration
	// Timeout cancels the task's context after this long; zero means none.
	Timeout time.Duration
	// Retry says whether and when a failed or interrupted run is tried again.
	Retry RetryPolicy
	// SlowAfter raises EventRunSlow when a run takes longer; zero means
	// the scheduler's default, negative means never.
	SlowAfter time.Duration

	Paused   bool
	Tags     []string
	Metadata map[string]string

	// Version increases with every stored change; UpdateJob refuses a job
	// whose Version is not the stored one (optimistic concurrency).
	Version int64
	// Created and Updated are maintained by the store.
	Created, Updated time.Time
}

// CoalescePolicy folds a backlog of due fires (after downtime or a long
// pause) into fewer runs. The folded fires are recorded skipped, so every
// fire is accounted for.
type CoalescePolicy uint8

const (
	// CoalesceLatest runs only the most recent due fire (the default).
	CoalesceLatest CoalescePolicy = iota
	// CoalesceEarliest runs only the earliest due fire.
	CoalesceEarliest
	// CoalesceAll runs every due fire.
	CoalesceAll
)

var coalesceNames = []string{"latest", "earliest", "all"}

// String returns "latest", "earliest" or "all".
func (p CoalescePolicy) String() string { return enumName(coalesceNames, int(p)) }

// ParseCoalescePolicy reads a policy name; "" means latest.
func ParseCoalescePolicy(s string) (CoalescePolicy, error) {
	i, err := parseEnum("coalesce", coalesceNames, s)
	return CoalescePolicy(i), err
}

// MarshalText writes the policy's name.
func (p CoalescePolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a policy's name.
func (p *CoalescePolicy) UnmarshalText(b []byte) (err error) {
	*p, err = ParseCoalescePolicy(string(b))
	return err
}

// OverlapPolicy says what a fire does when the job already has
// MaxInstances runs active.
type OverlapPolicy uint8

const (
	// OverlapSkip records the fire skipped (EventJobMaxInstances).
	OverlapSkip OverlapPolicy = iota
	// OverlapQueue keeps at most one fire waiting and runs it when a slot
	// frees; further fires meanwhile are skipped.
	OverlapQueue
	// OverlapQueueAll keeps every fire waiting, in order.
	OverlapQueueAll
	// OverlapCancelRunning cancels the oldest running run's context and
	// starts the new fire in its place.
	OverlapCancelRunning
)

var overlapNames = []string{"skip", "queue", "queue-all", "cancel-running"}

// String returns "skip", "queue", "queue-all" or "cancel-running".
func (p OverlapPolicy) String() string { return enumName(overlapNames, int(p)) }

// ParseOverlapPolicy reads a policy name; "" means skip.
func ParseOverlapPolicy(s string) (OverlapPolicy, error) {
	i, err := parseEnum("overlap", overlapNames, s)
	return OverlapPolicy(i), err
}

// MarshalText writes the policy's name.
func (p OverlapPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads a policy's name.
func (p *OverlapPolicy) UnmarshalText(b []byte) (err error) {
	*p, err = ParseOverlapPolicy(string(b))
	return err
}

// ConflictPolicy says what adding a job does when a job with its ID exists.
type ConflictPolicy uint8

const (
	// ConflictReplace replaces the stored job (the default for jobs
	// declared in code, so a restart re-declares without duplicates). The
	// stored next fire is kept when the trigger is unchanged.
	ConflictReplace ConflictPolicy = iota
	// ConflictKeepExisting leaves the stored job as it is.
	ConflictKeepExisting
	// ConflictError refuses with ErrConflict.
	ConflictError
)

var conflictNames = []string{"replace", "keep-existing", "error"}

// String returns "replace", "keep-existing" or "error".
func (p ConflictPolicy) String() string { return enumName(conflictNames, int(p)) }

// ParseConflictPolicy reads a policy name; "" means replace.
func ParseConflictPolicy(s string) (ConflictPolicy, error) {
	i, err := parseEnum("conflict", conflictNames, s)
	return ConflictPolicy(i), err
}

// RetryPolicy retries failed and interrupted runs with exponential backoff:
// attempt n+1 waits Backoff * Multiplier^(n-1), capped at MaxBackoff.
type RetryPolicy struct {
	Attempts   int           // total attempts including the first; 0 or 1 means no retry
	Backoff    time.Duration // wait before the second attempt; zero means 1s
	MaxBackoff time.Duration // cap on the wait; zero means 1h
	Multiplier float64       // growth per attempt; zero means 2
}

// Delay returns the wait before attempt next (2 for the first retry), and
// false when the policy allows no such attempt.
func (p RetryPolicy) Delay(next int) (time.Duration, bool) {
	if next < 2 || next > p.Attempts {
		return 0, false
	}
	d, limit, mult := p.Backoff, p.MaxBackoff, p.Multiplier
	if d == 0 {
		d = time.Second
	}
	if limit == 0 {
		limit = time.Hour
	}
	if mult == 0 {
		mult = 2
	}
	f := float64(d)
	for range next - 2 {
		if f *= mult; f >= float64(limit) {
			return limit, true
		}
	}
	return min(time.Duration(f), limit), true
}

// Validate reports the first bad option of j as a *FieldError naming it
// (for example "max_instances"). It does not check that the task is
// registered; the scheduler does.
func (j *Job) Validate() error {
	switch {
	case j == nil:
		return invalid("job", "nil")
	case j.ID == "":
		return invalid("id", "missing")
	case len(j.ID) > 255:
		return invalid("id", "longer than 255 bytes")
	case j.Task == "":
		return invalid("task", "missing")
	case j.Trigger == nil:
		return invalid("trigger", "missing")
	case len(j.Args) > 0 && !json.Valid(j.Args):
		return invalid("args", "not valid JSON")
	case !j.End.IsZero() && j.End.Before(j.Start):
		return invalid("end", "%s is before start %s", formatTime(j.End), formatTime(j.Start))
	}
	return j.validateOptions()
}

func (j *Job) validateOptions() error {
	for _, d := range []struct {
		field string
		v     time.Duration
	}{{"misfire_grace", j.MisfireGrace}, {"jitter", j.Jitter}, {"timeout", j.Timeout}} {
		if d.v < 0 {
			return invalid(d.field, "%v is negative", d.v)
		}
	}
	switch {
	case j.MaxInstances < 0:
		return invalid("max_instances", "%d is negative", j.MaxInstances)
	case j.MaxInstances > math.MaxInt32:
		return invalid("max_instances", "%d is above %d", j.MaxInstances, math.MaxInt32)
	case j.Coalesce > CoalesceAll:
		return invalid("coalesce", "unknown policy %d", j.Coalesce)
	case j.Overlap > OverlapCancelRunning:
		return invalid("overlap", "unknown policy %d", j.Overlap)
	}
	return j.Retry.Validate()
}

// Validate reports the first bad field of p as a *FieldError named
// "retry.<field>", for p on its own as in a job.
func (p RetryPolicy) Validate() error {
	switch {
	case p.Attempts < 0:
		return invalid("retry.attempts", "%d is negative", p.Attempts)
	case p.Backoff < 0:
		return invalid("retry.backoff", "%v is negative", p.Backoff)
	case p.MaxBackoff < 0:
		return invalid("retry.max_backoff", "%v is negative", p.MaxBackoff)
	case p.Multiplier != 0 && p.Multiplier < 1:
		return invalid("retry.multiplier", "%v is below 1", p.Multiplier)
	}
	return nil
}

// Instances returns MaxInstances with its default applied.
func (j *Job) Instances() int {
	if j.MaxInstances == 0 {
		return 1
	}
	return j.MaxInstances
}

// JitterBound returns the effective jitter: the job's, else the trigger's.
func (j *Job) JitterBound() time.Duration {
	if j.Jitter != 0 || j.Trigger == nil {
		return j.Jitter
	}
	return j.Trigger.Jitter()
}

// Clone returns a deep copy of j (the trigger is immutable and shared).
func (j *Job) Clone() *Job {
	c := new(Job)
	j.copyTo(c)
	return c
}

// copyTo makes *c a deep copy of j; c may be j.
func (j *Job) copyTo(c *Job) {
	args, tags, md := j.Args, j.Tags, j.Metadata
	*c = *j
	c.Args = append(json.RawMessage(nil), args...)
	c.Tags = append([]string(nil), tags...)
	if md != nil {
		c.Metadata = make(map[string]string, len(md))
		for k, v := range md {
			c.Metadata[k] = v
		}
	}
}

func enumName(names []string, i int) string {
	if i >= 0 && i < len(names) {
		return names[i]
	}
	return "unknown(" + strconv.Itoa(i) + ")"
}

func parseEnum(field string, names []string, s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	for i, n := range names {
		if n == s {
			return i, nil
		}
	}
	return 0, invalid(field, "unknown policy %q (want one of %v)", s, names)
}

// String returns a short description for logs.
func (j *Job) String() string {
	return fmt.Sprintf("job %s (task %s)", j.ID, j.Task)
}

// Stamp sets what a store sets on a job it stores: Created, Updated and
// Version 1 for a new job; for one replacing old, old's Created and the
// next Version, and old's NextFire when j has none and the trigger is
// the same (so a restart that re-declares a job keeps its schedule).
// Every store applies the same rule through it.
func (j *Job) Stamp(old *Job, now time.Time) {
	j.Created, j.Updated, j.Version = now, now, 1
	if old == nil {
		return
	}
	j.Created, j.Version = old.Created, old.Version+1
	if j.NextFire.IsZero() && sameTrigger(old.Trigger, j.Trigger) {
		j.NextFire = old.NextFire
	}
}
