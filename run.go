package sundial

import (
	"encoding/binary"
	"encoding/json"
	"math/rand/v2"
	"time"
)

// RunState is where a run is in its life:
// pending → running → succeeded | failed | interrupted, plus missed and
// skipped for fires that were accounted for but not executed.
type RunState uint8

const (
	RunPending     RunState = iota + 1 // created, waiting for its time and a worker
	RunRunning                         // claimed by a node and executing
	RunSucceeded                       // the task returned nil
	RunFailed                          // the task returned an error or panicked
	RunInterrupted                     // cut short: node lost, shutdown, cancelled
	RunMissed                          // not started within the misfire grace time
	RunSkipped                         // not executed by policy (coalesced, max instances)
)

var runStateNames = []string{"", "pending", "running", "succeeded", "failed", "interrupted", "missed", "skipped"}

// String returns the state's name, e.g. "running".
func (s RunState) String() string { return enumName(runStateNames, int(s)) }

// Final reports whether the state is an end state.
func (s RunState) Final() bool { return s >= RunSucceeded }

// MarshalText writes the state's name.
func (s RunState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a state's name.
func (s *RunState) UnmarshalText(b []byte) error {
	for i, n := range runStateNames {
		if i > 0 && n == string(b) {
			*s = RunState(i)
			return nil
		}
	}
	return invalid("state", "unknown run state %q", b)
}

// ParseRunState reads a state's name.
func ParseRunState(s string) (RunState, error) {
	var st RunState
	err := st.UnmarshalText([]byte(s))
	return st, err
}

// Run is one execution of a fire (or of a manual "run now"), one record per
// attempt. A fire is identified by (JobID, Scheduled); the store keeps at
// most one run per (JobID, Scheduled, Attempt, Manual), which is what makes
// each fire run exactly once.
type Run struct {
	ID        string          `json:"id"`
	JobID     string          `json:"job_id"`
	Task      string          `json:"task"`
	Args      json.RawMessage `json:"args,omitempty"`
	Scheduled time.Time       `json:"scheduled"`        // the fire's scheduled time (for manual runs, when it was asked for)
	Due       time.Time       `json:"due"`              // Scheduled plus jitter (or a retry's backoff): not started before
	Jitter    time.Duration   `json:"jitter,omitempty"` // the random delay drawn for this fire
	Manual    bool            `json:"manual,omitempty"` // created by RunNow or a backfill request, not by the trigger
	Attempt   int             `json:"attempt"`          // 1 for the first attempt
	State     RunState        `json:"state"`
	Reason    string          `json:"reason,omitempty"` // why a run was missed, skipped or interrupted, e.g. "coalesced"
	Node      string          `json:"node,omitempty"`   // the node that claimed it
	Executor  string          `json:"executor,omitempty"`
	Fence     int64           `json:"fence,omitempty"` // fencing token: strictly increasing per job, set when the run starts
	Timeout   time.Duration   `json:"timeout,omitempty"`
	SlowAfter time.Duration   `json:"slow_after,omitempty"` // the job's slow-run threshold when the run was made; negative: never

	Created  time.Time `json:"created"`
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	Error    string    `json:"error,omitempty"` // the task's error, if it failed
	Stack    string    `json:"stack,omitempty"` // the panic's stack trace, if it panicked
}

// Duration returns Finished - Started for a run that ran, else zero.
func (r *Run) Duration() time.Duration {
	if r.Started.IsZero() || r.Finished.IsZero() {
		return 0
	}
	return r.Finished.Sub(r.Started)
}

// Lateness returns Started - Scheduled for a run that started, else zero.
func (r *Run) Lateness() time.Duration {
	if r.Started.IsZero() {
		return 0
	}
	return r.Started.Sub(r.Scheduled)
}

// Clone returns a copy of r.
func (r *Run) Clone() *Run {
	c := *r
	c.Args = append(json.RawMessage(nil), r.Args...)
	return &c
}

// CheckNew reports, as a *FieldError naming the field, why r cannot be
// inserted as a new run (by AddRuns, CommitFires or FinishRun's retry):
// every store makes the same checks with it.
func (r *Run) CheckNew() error {
	switch {
	case r == nil:
		return invalid("run", "nil")
	case r.ID == "":
		return invalid("run.id", "missing")
	case r.JobID == "":
		return invalid("run.job_id", "missing")
	case r.Attempt < 1:
		return invalid("run.attempt", "%d is below 1", r.Attempt)
	case r.State != RunPending && !r.State.Final():
		return invalid("run.state", "a new run must be pending or final, not %s", r.State)
	}
	return nil
}

// CheckFinish reports, as a *FieldError, why a store's FinishRun cannot
// take run (it needs a final state) and retry (a valid new run, or nil).
func CheckFinish(run, retry *Run) error {
	if run == nil || !run.State.Final() {
		return invalid("run.state", "FinishRun needs a final state")
	}
	if retry != nil {
		return retry.CheckNew()
	}
	return nil
}

// NewRunID returns a new run ID: 26 characters of Crockford base32, the
// first 10 the creation time in milliseconds, so IDs sort by creation,
// and the rest 80 random bits. The bits come from math/rand/v2's
// generator, which the runtime seeds from the system's entropy per thread:
// unpredictable enough for an ID that only has to be unique, at less than
// half the cost of crypto/rand, which a schedule round paid once per fire.
func NewRunID(now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16|rand.Uint64()>>48)
	binary.BigEndian.PutUint64(b[8:], rand.Uint64())
	return encodeBase32(b)
}

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// encodeBase32 writes 128 bits as 26 base32 digits, most significant first.
func encodeBase32(b [16]byte) string {
	hi := binary.BigEndian.Uint64(b[:8])
	lo := binary.BigEndian.Uint64(b[8:])
	var out [26]byte
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// PlanRetry returns the next attempt of a run that failed or was
// interrupted, due after the job's retry backoff from now, or nil when the
// job's retry policy allows no more attempts. Stores call it when they
// recover runs, so the decision is the same everywhere.
func PlanRetry(job *Job, ended *Run, now time.Time) *Run {
	if job == nil {
		return nil
	}
	delay, ok := job.Retry.Delay(ended.Attempt + 1)
	if !ok {
		return nil
	}
	return &Run{
		ID: NewRunID(now), JobID: ended.JobID, Task: ended.Task, Args: ended.Args,
		Scheduled: ended.Scheduled, Due: now.Add(delay), Jitter: ended.Jitter,
		Manual: ended.Manual, Attempt: ended.Attempt + 1, State: RunPending,
		Executor: ended.Executor, Timeout: ended.Timeout, SlowAfter: ended.SlowAfter, Created: now,
	}
}

// requeue returns the next attempt of a run that was claimed but never
// started (its node shut down first): due when the original was, whatever
// the retry policy, since the task never ran.
func requeue(r *Run, now time.Time) *Run {
	return &Run{
		ID: NewRunID(now), JobID: r.JobID, Task: r.Task, Args: r.Args, Scheduled: r.Scheduled,
		Due: r.Due, Jitter: r.Jitter, Manual: r.Manual, Attempt: r.Attempt + 1, State: RunPending,
		Executor: r.Executor, Timeout: r.Timeout, SlowAfter: r.SlowAfter, Created: now,
	}
}
