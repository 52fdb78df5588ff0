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
		cl := &runClaimer{ctx: ctx, tx: tx, c: c, slots: map[string]*slots{}, stmts: s.stmts(ctx, tx)}
		defer cl.stmts.close()
		for executor, limit := range c.Limit {
			runs, err := cl.claimPool(poolOf(executor), limit)
			if err != nil {
				return err
			}
			out = append(out, runs...)
		}
		return cl.writeFences()
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
		err := s.row(ctx, anyDueRunSQL, poolOf(executor), timeText(c.Horizon)).Scan(&work)
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
	fenceState
}

// slots are a job's running runs and the most it may have.
type slots struct{ running, max int }

// The fields of runClaimer that number fencing tokens.
type fenceState struct {
	fence      int64 // the last token issued
	fenceTaken bool  // fence was read from the counter
}

// pageSize is the most pending runs claimPool reads at a time.
const pageSize = 256

// candidate is a pending run as claimPool first reads it: enough to order
// it and to check its job's slots. Runs left pending cost no more.
type candidate struct {
	rowid int64
	id    string
	jobID string
	due   string
	// The job's running runs and MaxInstances when the page was read.
	running, max int
}

// claimPool starts up to limit due runs of a pool, oldest Due first (ties:
// first inserted first), skipping (and leaving pending) the runs whose
// jobs have no free slot.
func (cl *runClaimer) claimPool(pool string, limit int) ([]*sundial.Run, error) {
	var out []*sundial.Run
	var last candidate
	for len(out) < limit {
		// Read about twice the runs wanted: some may wait for a slot.
		n := min(pageSize, 2*(limit-len(out))+8)
		page, err := cl.pending(pool, last, n)
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
		if len(page) < n {
			break
		}
		last = page[len(page)-1]
	}
	return out, nil
}

// pendingSQL reads a page of a pool's due runs, through runs_pending.
var pendingSQL = hot(`SELECT r.rowid, r.id, r.job_id, r.due,
		(SELECT count(*) FROM runs x WHERE x.state = 2 AND x.job_id = r.job_id),
		coalesce((SELECT instances FROM jobs WHERE id = r.job_id), 1)
	FROM runs r
	WHERE r.state = 1 AND r.pool = ? AND r.due <= ? AND (r.due, r.rowid) > (?, ?)
	ORDER BY r.due, r.rowid LIMIT ?`)

// pending reads a page of a pool's due runs after last.
func (cl *runClaimer) pending(pool string, last candidate, n int) ([]candidate, error) {
	rows, err := cl.stmts.query(pendingSQL, pool, timeText(cl.c.Horizon), last.due, last.rowid, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var page []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.rowid, &c.id, &c.jobID, &c.due, &c.running, &c.max); err != nil {
			return nil, err
		}
		page = append(page, c)
	}
	return page, rows.Err()
}

// start makes a run running and returns it, or nil if its job has no free
// slot.
func (cl *runClaimer) start(c candidate) (*sundial.Run, error) {
	sl := cl.slots[c.jobID]
	if sl == nil {
		sl = &slots{running: c.running, max: c.max}
		cl.slots[c.jobID] = sl
	}
	if sl.running >= sl.max {
		return nil, nil
	}
	fence, err := cl.nextFence()
	if err != nil {
		return nil, err
	}
	r, err := scanRun(cl.stmts.row(startRunSQL, cl.c.Node, timeText(cl.c.Now), fence, c.id))
	if err != nil {
		return nil, err
	}
	sl.running++
	return r, nil
}

// nextFence returns the next fencing token. Tokens come from the store's
// one fence counter, read once per claim and written back once when it
// ends (writeFences), in the same transaction: a counter that only grows
// gives tokens strictly increasing per job.
func (cl *runClaimer) nextFence() (int64, error) {
	if cl.fence == 0 {
		err := cl.stmts.row(readFenceSQL).Scan(&cl.fence)
		if err != nil {
			return 0, err
		}
		cl.fenceTaken = true
	}
	cl.fence++
	return cl.fence, nil
}

// writeFences stores the last token the claim issued.
func (cl *runClaimer) writeFences() error {
	if !cl.fenceTaken {
		return nil
	}
	_, err := cl.stmts.exec(writeFenceSQL, cl.fence)
	return err
}

var (
	startRunSQL = hot(`UPDATE runs SET state = 2, node = ?, started = ?, fence = ?
		WHERE id = ? RETURNING ` + runCols)
	readFenceSQL  = hot(`SELECT value FROM counters WHERE name = 'fence'`)
	writeFenceSQL = hot(`UPDATE counters SET value = ? WHERE name = 'fence'`)
	anyDueRunSQL  = hot(`SELECT EXISTS (SELECT 1 FROM runs WHERE state = 1 AND pool = ? AND due <= ?)`)
	finishRunSQL  = hot(`UPDATE runs SET state = ?, finished = ?, error = ?, stack = ?, reason = ?,
		started = ?, cancel = 0, archived = ? WHERE id = ? AND state = 2 AND node = ? RETURNING job_id`)
)

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
		return s.inWriter(ctx, tx, func(w *txWriter) (err error) {
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
		return s.inWriter(ctx, tx, func(w *txWriter) error {
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
	err = w.stmts.row(finishRunSQL, int(run.State), timeText(run.Finished), run.Error, run.Stack, run.Reason, timeText(run.Started), seq,
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
