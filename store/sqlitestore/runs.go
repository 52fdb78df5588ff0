package sqlitestore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/sundialhq/sundial"
)

// ClaimRuns starts pending runs due by c.Horizon, oldest Due first, up to
// c.Limit per executor ("" is "default"), while each run's job has fewer
// than its MaxInstances runs running cluster-wide (1 for a removed job).
// Each started run gets Node, Started = c.Now and the job's next fencing
// token. When no run is due it takes no write lock.
func (s *Store) ClaimRuns(ctx context.Context, c sundial.RunClaim) ([]*sundial.Run, error) {
	if work, err := s.anyDueRun(ctx, c); err != nil || !work {
		return nil, s.fail(ctx, "claim runs", err)
	}
	var out []*sundial.Run
	err := s.write(ctx, "claim runs", func(tx *sql.Tx) error {
		cl := &runClaimer{ctx: ctx, tx: tx, c: c, slots: map[string]*slots{}, stmts: stmts{ctx: ctx, tx: tx}}
		defer cl.stmts.close()
		for executor, limit := range c.Limit {
			runs, err := cl.claimPool(poolOf(executor), limit)
			if err != nil {
				return err
			}
			out = append(out, runs...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// anyDueRun reports, without a write lock, whether a pool with free slots
// has a due run.
func (s *Store) anyDueRun(ctx context.Context, c sundial.RunClaim) (bool, error) {
	for executor, limit := range c.Limit {
		if limit <= 0 {
			continue
		}
		var work bool
		err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM runs WHERE state = 1 AND pool = ? AND due <= ?)`,
			poolOf(executor), timeText(c.Horizon)).Scan(&work)
		if err != nil || work {
			return work, err
		}
	}
	return false, ctx.Err()
}

// runClaimer starts runs in one transaction, counting each job's slots.
type runClaimer struct {
	ctx   context.Context
	tx    *sql.Tx
	c     sundial.RunClaim
	slots map[string]*slots
	stmts stmts
}

// slots are a job's running runs and the most it may have.
type slots struct{ running, max int }

// pageSize is how many pending runs claimPool reads at a time.
const pageSize = 256

// candidate is a pending run as claimPool first reads it: enough to order
// it and to check its job's slots. Runs left pending cost no more.
type candidate struct {
	rowid int64
	id    string
	jobID string
	due   string
}

// claimPool starts up to limit due runs of a pool, oldest Due first (ties:
// first inserted first), skipping (and leaving pending) the runs whose
// jobs have no free slot.
func (cl *runClaimer) claimPool(pool string, limit int) ([]*sundial.Run, error) {
	var out []*sundial.Run
	var last candidate
	for len(out) < limit {
		page, err := cl.pending(pool, last)
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			if len(out) == limit {
				break
			}
			if r, err := cl.start(c); err != nil {
				return nil, err
			} else if r != nil {
				out = append(out, r)
			}
		}
		if len(page) < pageSize {
			break
		}
		last = page[len(page)-1]
	}
	return out, nil
}

// pendingSQL reads a page of a pool's due runs, through runs_pending.
const pendingSQL = `SELECT rowid, id, job_id, due FROM runs
	WHERE state = 1 AND pool = ? AND due <= ? AND (due, rowid) > (?, ?)
	ORDER BY due, rowid LIMIT ?`

// pending reads a page of a pool's due runs after last.
func (cl *runClaimer) pending(pool string, last candidate) ([]candidate, error) {
	rows, err := cl.tx.QueryContext(cl.ctx, pendingSQL, pool, timeText(cl.c.Horizon), last.due, last.rowid, pageSize)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.rowid, &c.id, &c.jobID, &c.due); err != nil {
			return nil, err
		}
		page = append(page, c)
	}
	return page, rows.Err()
}

// start makes a run running and returns it, or nil if its job has no free
// slot.
func (cl *runClaimer) start(c candidate) (*sundial.Run, error) {
	sl, err := cl.slotsOf(c.jobID)
	if err != nil || sl.running >= sl.max {
		return nil, err
	}
	var fence int64
	err = cl.stmts.row(`INSERT INTO fences (job_id, fence) VALUES (?, 1)
		ON CONFLICT (job_id) DO UPDATE SET fence = fence + 1 RETURNING fence`, c.jobID).Scan(&fence)
	if err != nil {
		return nil, err
	}
	r, err := scanRun(cl.stmts.row(`UPDATE runs SET state = 2, node = ?, started = ?, fence = ?
		WHERE id = ? RETURNING `+runCols, cl.c.Node, timeText(cl.c.Now), fence, c.id))
	if err != nil {
		return nil, err
	}
	sl.running++
	return r, nil
}

func (cl *runClaimer) slotsOf(jobID string) (*slots, error) {
	if sl := cl.slots[jobID]; sl != nil {
		return sl, nil
	}
	sl := &slots{}
	err := cl.stmts.row(`SELECT
		(SELECT count(*) FROM runs WHERE state = 2 AND job_id = ?),
		coalesce((SELECT instances FROM jobs WHERE id = ?), 1)`, jobID, jobID).Scan(&sl.running, &sl.max)
	cl.slots[jobID] = sl
	return sl, err
}

// FinishRun records a running run's end (State, Finished, Error, Stack,
// Reason, and Started: zero when the task never began) and, in the same transaction, inserts
// retry when not nil. It fails with a *sundial.FieldError for a state
// that is not final or an invalid retry, an error matching
// sundial.ErrNotFound for an unknown run, and one matching
// sundial.ErrConflict when the run is not running on run.Node.
func (s *Store) FinishRun(ctx context.Context, run *sundial.Run, retry *sundial.Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := sundial.CheckFinish(run, retry); err != nil {
		return err
	}
	var notices []sundial.Notice
	err := s.write(ctx, "finish run "+run.ID, func(tx *sql.Tx) error {
		return inWriter(ctx, tx, func(w *txWriter) (err error) {
			notices, err = w.finishOne(sundial.RunEnd{Run: run, Retry: retry})
			return err
		})
	})
	if err != nil {
		return err
	}
	s.publish(notices...)
	return nil
}

// FinishRuns records many run ends in one transaction (one disk flush):
// each as FinishRun would, with an error per end, in order. An end refused
// (bad input, an unknown run, one no longer running on its node) does not
// stop the others; a database error fails them all.
func (s *Store) FinishRuns(ctx context.Context, ends []sundial.RunEnd) []error {
	errs := make([]error, len(ends))
	if err := ctx.Err(); err != nil {
		return fill(errs, err)
	}
	var notices []sundial.Notice
	err := s.write(ctx, "finish runs", func(tx *sql.Tx) error {
		notices = notices[:0]
		return inWriter(ctx, tx, func(w *txWriter) error {
			for i, e := range ends {
				if errs[i] = sundial.CheckFinish(e.Run, e.Retry); errs[i] != nil {
					continue
				}
				n, err := w.finishOne(e)
				if err != nil && !errors.Is(err, sundial.ErrNotFound) && !errors.Is(err, sundial.ErrConflict) {
					return err
				}
				errs[i] = err
				notices = append(notices, n...)
			}
			return nil
		})
	})
	if err != nil {
		return fill(errs, err)
	}
	s.publish(notices...)
	return errs
}

// finishOne ends one run and inserts its retry, and returns the notices.
func (w *txWriter) finishOne(e sundial.RunEnd) ([]sundial.Notice, error) {
	jobID, err := w.finish(e.Run)
	if err != nil {
		return nil, err
	}
	notices := []sundial.Notice{{Kind: sundial.NoticeRunFinished, JobID: jobID}}
	if e.Retry != nil {
		retried, err := w.insert([]*sundial.Run{e.Retry}, e.Run.Finished)
		if err != nil {
			return nil, err
		}
		if len(retried) > 0 {
			notices = append(notices, sundial.Notice{Kind: sundial.NoticeRunsCreated, JobID: jobID})
		}
	}
	return notices, nil
}

// fill sets every element of errs to err and returns errs.
func fill(errs []error, err error) []error {
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// finish ends a run running on run.Node and returns its job's ID. The
// common case is one statement; only a refused end reads the run to say
// why.
func (w *txWriter) finish(run *sundial.Run) (string, error) {
	seq, err := w.nextArchive()
	if err != nil {
		return "", err
	}
	var jobID string
	err = w.stmts.row(`UPDATE runs SET state = ?, finished = ?, error = ?, stack = ?, reason = ?,
		started = ?, cancel = 0, archived = ? WHERE id = ? AND state = 2 AND node = ? RETURNING job_id`,
		int(run.State), timeText(run.Finished), run.Error, run.Stack, run.Reason, timeText(run.Started), seq,
		run.ID, run.Node).Scan(&jobID)
	if !errors.Is(err, sql.ErrNoRows) {
		return jobID, err
	}
	w.archive-- // not taken after all
	var node string
	var state sundial.RunState
	err = w.stmts.row(`SELECT state, node FROM runs WHERE id = ?`, run.ID).Scan(&state, &node)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "", notFound("run %s", run.ID)
	case err != nil:
		return "", err
	}
	return "", conflict("run %s is %s on node %s", run.ID, state, node)
}
