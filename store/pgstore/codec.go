package pgstore

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sundialhq/sundial"
)

// Times are stored as nanoseconds since the Unix epoch (bigint), which
// keeps Go's precision: the years 1678 to 2262. The zero Time is zeroNs,
// below every other.
const zeroNs = math.MinInt64

var (
	minTime = time.Unix(0, math.MinInt64+1)
	maxTime = time.Unix(0, math.MaxInt64)
)

// ns is t as stored. Out-of-range times were refused by checkTime; ns
// clamps them rather than wrap around.
func ns(t time.Time) int64 {
	switch {
	case t.IsZero():
		return zeroNs
	case t.Before(minTime):
		return math.MinInt64 + 1
	case t.After(maxTime):
		return math.MaxInt64
	}
	return t.UnixNano()
}

// fromNs reads a stored time, in UTC.
func fromNs(v int64) time.Time {
	if v == zeroNs {
		return time.Time{}
	}
	return time.Unix(0, v).UTC()
}

// nullNs is t for a nullable column: NULL for the zero Time.
func nullNs(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	v := ns(t)
	return &v
}

// fromNullNs reads a nullable time column.
func fromNullNs(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return fromNs(*v)
}

// checkTime refuses a time the store cannot keep exactly.
func checkTime(field string, t time.Time) error {
	if !t.IsZero() && (t.Before(minTime) || t.After(maxTime)) {
		return invalid(field, "%s is outside the years 1678 to 2262 that pgstore stores", t.UTC().Format(time.RFC3339))
	}
	return nil
}

// jobCols are the columns scanJob reads, in order.
const jobCols = `id, spec, args, next_fire`

// encodeJob returns the job's stored JSON: its MarshalJSON form, less
// NextFire and Args, which have columns of their own.
func encodeJob(j *sundial.Job) (string, error) {
	c := *j
	c.NextFire, c.Args = time.Time{}, nil
	b, err := json.Marshal(&c)
	if err != nil {
		return "", fmt.Errorf("encode job %s: %w", j.ID, err)
	}
	return string(b), nil
}

// scanJob reads a row of jobCols.
func scanJob(row pgx.Row) (*sundial.Job, error) {
	var c jobColumns
	if err := row.Scan(&c.id, &c.spec, &c.args, &c.next); err != nil {
		return nil, err
	}
	return c.job()
}

// jobColumns are the values of jobCols as scanned.
type jobColumns struct {
	id         string
	spec, args []byte
	next       *int64
}

// job decodes the job.
func (c *jobColumns) job() (*sundial.Job, error) {
	var j sundial.Job
	if err := j.UnmarshalJSON(c.spec); err != nil {
		// Stored data, not the caller's input: not an ErrInvalid.
		return nil, &storeError{msg: fmt.Sprintf("pgstore: job %s: stored JSON unreadable: %v", c.id, err)}
	}
	j.NextFire = fromNullNs(c.next)
	if len(c.args) > 0 {
		j.Args = json.RawMessage(c.args)
	}
	return &j, nil
}

// runColumns are the columns scanRun reads, in order.
var runColumns = []string{"id", "job_id", "task", "args", "scheduled", "due", "jitter", "manual", "attempt",
	"state", "reason", "node", "executor", "fence", "timeout", "slow_after", "created", "started", "finished",
	"error", "stack"}

// runCols lists runColumns, each prefixed (with a table alias and a dot,
// or nothing).
func runCols(prefix string) string {
	return prefix + strings.Join(runColumns, ", "+prefix)
}

// scanRun reads a row of runCols.
func scanRun(row pgx.Row) (*sundial.Run, error) {
	var r sundial.Run
	var args []byte
	var sched, due, jitter, timeout, slow, created, started, finished int64
	var state int16
	err := row.Scan(&r.ID, &r.JobID, &r.Task, &args, &sched, &due, &jitter, &r.Manual, &r.Attempt,
		&state, &r.Reason, &r.Node, &r.Executor, &r.Fence, &timeout, &slow, &created, &started, &finished,
		&r.Error, &r.Stack)
	if err != nil {
		return nil, err
	}
	r.Scheduled, r.Due, r.Created = fromNs(sched), fromNs(due), fromNs(created)
	r.Started, r.Finished = fromNs(started), fromNs(finished)
	r.Jitter, r.Timeout, r.SlowAfter = time.Duration(jitter), time.Duration(timeout), time.Duration(slow)
	r.State = sundial.RunState(state)
	if len(args) > 0 {
		r.Args = json.RawMessage(args)
	}
	return &r, nil
}

// scanRuns reads every row of runCols and closes rows.
func scanRuns(rows pgx.Rows) ([]*sundial.Run, error) {
	defer rows.Close()
	var out []*sundial.Run
	for rows.Next() {
		r, err := scanRun(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// checkRunTimes refuses a run whose times the store cannot keep exactly.
func checkRunTimes(r *sundial.Run) error {
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"run.scheduled", r.Scheduled}, {"run.due", r.Due}, {"run.created", r.Created},
		{"run.started", r.Started}, {"run.finished", r.Finished}} {
		if err := checkTime(f.name, f.t); err != nil {
			return err
		}
	}
	return nil
}

// text makes s storable in a text column: PostgreSQL refuses NUL bytes
// and invalid UTF-8, which a task's error or stack may hold.
func text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// poolOf is the pool that runs a run: its executor, "" meaning "default".
func poolOf(executor string) string {
	if executor == "" {
		return "default"
	}
	return executor
}
