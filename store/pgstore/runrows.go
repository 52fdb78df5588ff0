package pgstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/sundialhq/sundial"
)

// runRows are runs to insert, column by column, so that a whole batch
// goes to the server as one statement with an array per column (unnest),
// however many runs it holds. Each row also carries a gate: the ID (of a
// job, or of a run) whose change the row's insertion depends on.
type runRows struct {
	runs []*sundial.Run // the runs as inserted, Created filled in

	id, jobID, task              []string
	args                         [][]byte
	scheduled, due, jitter       []int64
	manual                       []bool
	attempt                      []int32
	state                        []int16
	reason, node, executor, pool []string
	fence, timeout, slowAfter    []int64
	created, started, finished   []int64
	errText, stack, gate         []string
}

// add appends a copy of r, with Created defaulting to now, gated on gate.
func (rr *runRows) add(r *sundial.Run, now time.Time, gate string) {
	r = r.Clone()
	if r.Created.IsZero() {
		r.Created = now
	}
	rr.runs = append(rr.runs, r)
	rr.id, rr.jobID, rr.task = append(rr.id, r.ID), append(rr.jobID, r.JobID), append(rr.task, r.Task)
	rr.args = append(rr.args, []byte(r.Args))
	rr.scheduled, rr.due = append(rr.scheduled, ns(r.Scheduled)), append(rr.due, ns(r.Due))
	rr.jitter, rr.manual = append(rr.jitter, int64(r.Jitter)), append(rr.manual, r.Manual)
	rr.attempt, rr.state = append(rr.attempt, int32(r.Attempt)), append(rr.state, int16(r.State))
	rr.reason, rr.node = append(rr.reason, text(r.Reason)), append(rr.node, r.Node)
	rr.executor, rr.pool = append(rr.executor, r.Executor), append(rr.pool, poolOf(r.Executor))
	rr.fence, rr.timeout = append(rr.fence, r.Fence), append(rr.timeout, int64(r.Timeout))
	rr.slowAfter, rr.created = append(rr.slowAfter, int64(r.SlowAfter)), append(rr.created, ns(r.Created))
	rr.started, rr.finished = append(rr.started, ns(r.Started)), append(rr.finished, ns(r.Finished))
	rr.errText, rr.stack = append(rr.errText, text(r.Error)), append(rr.stack, text(r.Stack))
	rr.gate = append(rr.gate, gate)
}

// runRowTypes are the columns of a runRows unnest and their array types.
var runRowTypes = []string{"id text", "job_id text", "task text", "args bytea", "scheduled int8", "due int8",
	"jitter int8", "manual bool", "attempt int4", "state int2", "reason text", "node text", "executor text",
	"pool text", "fence int8", "timeout int8", "slow_after int8", "created int8", "started int8",
	"finished int8", "error text", "stack text", "gate text"}

// params returns the arrays, in runRowTypes order.
func (rr *runRows) params() []any {
	return []any{rr.id, rr.jobID, rr.task, rr.args, rr.scheduled, rr.due, rr.jitter, rr.manual, rr.attempt,
		rr.state, rr.reason, rr.node, rr.executor, rr.pool, rr.fence, rr.timeout, rr.slowAfter, rr.created,
		rr.started, rr.finished, rr.errText, rr.stack, rr.gate}
}

// insertRunsSQL returns the statement that inserts the rows of a runRows
// whose parameters start at $first and whose gate satisfies where (SQL on
// the alias x, or "true"), dropping those whose ID or fire's key exists,
// and returns the IDs inserted. A final run takes its place in the finish
// order as it is inserted.
func insertRunsSQL(first int, where string) string {
	var arrays, names []string
	for i, col := range runRowTypes {
		name, typ, _ := strings.Cut(col, " ")
		arrays = append(arrays, fmt.Sprintf("$%d::%s[]", first+i, typ))
		names = append(names, name)
	}
	cols := strings.Join(names[:len(names)-1], ", ")
	return `INSERT INTO {schema}.runs (` + cols + `, archived)
	SELECT ` + cols + `, CASE WHEN state >= 3 THEN nextval('{schema}.finish_order') END
	FROM unnest(` + strings.Join(arrays, ", ") + `) AS x(` + strings.Join(names, ", ") + `)
	WHERE ` + where + `
	ON CONFLICT DO NOTHING
	RETURNING id`
}

// inserted returns the runs of rr whose IDs are in ids, in rr's order.
func (rr *runRows) inserted(ids map[string]bool) []*sundial.Run {
	var out []*sundial.Run
	for _, r := range rr.runs {
		if ids[r.ID] {
			out = append(out, r)
			delete(ids, r.ID) // a duplicate ID was inserted once
		}
	}
	return out
}
