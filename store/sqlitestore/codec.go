package sqlitestore

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sundialhq/sundial"
)

// timeLayout writes instants in UTC at a fixed width, so that TEXT columns
// compare in time order and keep nanoseconds (years 0001 to 9999).
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// timeText is t as stored; the zero Time sorts before every other.
func timeText(t time.Time) string { return t.UTC().Format(timeLayout) }

// nullTime is t as stored in a nullable column: NULL for the zero Time.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return timeText(t)
}

// timeScan reads a stored time (NULL: the zero Time) into dst.
type timeScan struct{ dst *time.Time }

// Scan implements sql.Scanner.
func (s timeScan) Scan(v any) error {
	var text string
	switch v := v.(type) {
	case nil:
		*s.dst = time.Time{}
		return nil
	case string:
		text = v
	case []byte:
		text = string(v)
	default:
		return fmt.Errorf("time column holds %T", v)
	}
	t, err := time.Parse(timeLayout, text)
	if err != nil {
		return fmt.Errorf("time column holds %q", text)
	}
	*s.dst = t
	return nil
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// withExtra scans a row of runCols (or jobCols) followed by columns of
// its own into extra.
type withExtra struct {
	scanner
	extra []any
}

func (w withExtra) Scan(dest ...any) error { return w.scanner.Scan(append(dest, w.extra...)...) }

// jobCols are the columns decodeJob reads, in order.
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
func scanJob(sc scanner) (*sundial.Job, error) {
	var id, spec string
	var args []byte
	var next time.Time
	if err := sc.Scan(&id, &spec, &args, timeScan{&next}); err != nil {
		return nil, err
	}
	var j sundial.Job
	if err := j.UnmarshalJSON([]byte(spec)); err != nil {
		// Stored data, not the caller's input: not an ErrInvalid.
		return nil, &storeError{msg: fmt.Sprintf("sqlitestore: job %s: stored JSON unreadable: %v", id, err)}
	}
	j.NextFire = next
	if len(args) > 0 {
		j.Args = json.RawMessage(args)
	}
	return &j, nil
}

// runCols are the columns scanRun reads, in order.
const runCols = `id, job_id, task, args, scheduled, due, jitter, manual, attempt, state, reason,
	node, executor, fence, timeout, slow_after, created, started, finished, error, stack`

// scanRun reads a row of runCols.
func scanRun(sc scanner) (*sundial.Run, error) {
	var r sundial.Run
	var args []byte
	err := sc.Scan(&r.ID, &r.JobID, &r.Task, &args, timeScan{&r.Scheduled}, timeScan{&r.Due},
		&r.Jitter, &r.Manual, &r.Attempt, &r.State, &r.Reason, &r.Node, &r.Executor, &r.Fence,
		&r.Timeout, &r.SlowAfter, timeScan{&r.Created}, timeScan{&r.Started},
		timeScan{&r.Finished}, &r.Error, &r.Stack)
	if err != nil {
		return nil, err
	}
	if len(args) > 0 {
		r.Args = json.RawMessage(args)
	}
	return &r, nil
}

// scanRuns reads every row of runCols and closes rows.
func scanRuns(rows *sql.Rows, err error) ([]*sundial.Run, error) {
	if err != nil {
		return nil, err
	}
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

// insertRunSQL inserts a run unless its ID or its fire's key exists.
var insertRunSQL = hot(`INSERT INTO runs (id, job_id, task, args, scheduled, due, jitter, manual,
	attempt, state, reason, node, executor, pool, fence, timeout, slow_after, created, started,
	finished, error, stack, archived)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT DO NOTHING`)

// runArgs are insertRunSQL's arguments for r; archived is nil unless r is
// final.
func runArgs(r *sundial.Run, archived any) []any {
	return []any{r.ID, r.JobID, r.Task, []byte(r.Args), timeText(r.Scheduled), timeText(r.Due),
		int64(r.Jitter), r.Manual, r.Attempt, int(r.State), r.Reason, r.Node, r.Executor,
		poolOf(r.Executor), r.Fence, int64(r.Timeout), int64(r.SlowAfter), timeText(r.Created),
		timeText(r.Started), timeText(r.Finished), r.Error, r.Stack, archived}
}

// poolOf is the pool that runs a run: its executor, "" meaning "default".
func poolOf(executor string) string {
	if executor == "" {
		return "default"
	}
	return executor
}
