package sqlitestore

import (
	"context"
	"database/sql"
	"time"

	"github.com/sundialhq/sundial"
)

// txWriter inserts runs, commits fires and finishes runs in one write
// transaction, with its statements prepared once (on first use) for the
// whole batch and the archive counter read and written once.
type txWriter struct {
	ctx     context.Context
	tx      *sql.Tx
	stmts   stmts
	archive int64 // the last archive number taken, once loaded
	taken   bool
}

// inWriter runs fn with a txWriter on tx, then writes its counter back.
func (s *Store) inWriter(ctx context.Context, tx *sql.Tx, fn func(*txWriter) error) error {
	w := &txWriter{ctx: ctx, tx: tx, stmts: s.stmts(ctx, tx)}
	defer w.close()
	if err := fn(w); err != nil || !w.taken {
		return err
	}
	_, err := w.stmts.exec(writeArchiveSQL, w.archive)
	return err
}

// stmts returns the statement cache of a transaction.
func (s *Store) stmts(ctx context.Context, tx *sql.Tx) stmts {
	return stmts{ctx: ctx, tx: tx, prepared: s.prepared}
}

var (
	readArchiveSQL  = hot(`SELECT value FROM counters WHERE name = 'archive'`)
	writeArchiveSQL = hot(`UPDATE counters SET value = ? WHERE name = 'archive'`)
	cancelRunSQL    = hot(`UPDATE runs SET cancel = 1 WHERE id = ? AND state = 2`)
)

// nextArchive returns the next number of the order of finished runs.
func (w *txWriter) nextArchive() (int64, error) {
	if !w.taken {
		err := w.stmts.row(readArchiveSQL).Scan(&w.archive)
		if err != nil {
			return 0, err
		}
		w.taken = true
	}
	w.archive++
	return w.archive, nil
}

// commitSQL sets a job's next fire and releases its claim, if the token
// still holds it.
var commitSQL = hot(`UPDATE jobs SET next_fire = ?, claim_token = NULL, claim_node = NULL, claim_until = NULL, lapsed = NULL
	WHERE id = ? AND claim_token = ?`)

func (w *txWriter) close() { w.stmts.close() }

// stmts prepares each statement once per transaction: a batch of a
// thousand runs runs the same few statements a thousand times, and
// preparing them each time cost more than running them.
type stmts struct {
	ctx      context.Context
	tx       *sql.Tx
	prepared map[string]*sql.Stmt // the Store's hot queries
	m        map[string]*sql.Stmt
}

func (s *stmts) get(query string) (*sql.Stmt, error) {
	if st := s.m[query]; st != nil {
		return st, nil
	}
	var st *sql.Stmt
	var err error
	if p := s.prepared[query]; p != nil {
		st = s.tx.StmtContext(s.ctx, p)
	} else if st, err = s.tx.PrepareContext(s.ctx, query); err != nil {
		return nil, err
	}
	if s.m == nil {
		s.m = map[string]*sql.Stmt{}
	}
	s.m[query] = st
	return st, nil
}

// row runs a query expected to return one row.
func (s *stmts) row(query string, args ...any) *sql.Row {
	st, err := s.get(query)
	if err != nil {
		return s.tx.QueryRowContext(s.ctx, query, args...) // reports the same error
	}
	return st.QueryRowContext(s.ctx, args...)
}

// query runs a query.
func (s *stmts) query(query string, args ...any) (*sql.Rows, error) {
	st, err := s.get(query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(s.ctx, args...)
}

// QueryContext and QueryRowContext run a query, prepared once per
// transaction, in the transaction's ctx. They make stmts a querier.
func (s *stmts) QueryContext(_ context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.query(query, args...)
}

func (s *stmts) QueryRowContext(_ context.Context, query string, args ...any) *sql.Row {
	return s.row(query, args...)
}

// exec runs a statement.
func (s *stmts) exec(query string, args ...any) (sql.Result, error) {
	st, err := s.get(query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(s.ctx, args...)
}

func (s *stmts) close() {
	for _, st := range s.m {
		st.Close()
	}
}

// commit applies one FireCommit if its token still holds the job's claim.
func (w *txWriter) commit(c sundial.FireCommit, now time.Time) (sundial.CommitResult, error) {
	res := sundial.CommitResult{JobID: c.JobID, Lost: true}
	if c.Token == 0 {
		return res, nil
	}
	out, err := w.stmts.exec(commitSQL, nullTime(c.NextFire), c.JobID, c.Token)
	if err != nil {
		return res, err
	}
	if n, err := out.RowsAffected(); err != nil || n == 0 {
		return res, err
	}
	res.Lost = false
	if res.Inserted, err = w.insert(c.Runs, now); err != nil {
		return res, err
	}
	for _, id := range c.Cancel {
		if _, err := w.stmts.exec(cancelRunSQL, id); err != nil {
			return res, err
		}
	}
	return res, nil
}

// insert stores copies of the runs whose ID and fire's key are new, with
// Created defaulting to now, and returns them.
func (w *txWriter) insert(runs []*sundial.Run, now time.Time) ([]*sundial.Run, error) {
	var out []*sundial.Run
	for _, r := range runs {
		r = r.Clone()
		if r.Created.IsZero() {
			r.Created = now
		}
		var archived any
		if r.State.Final() {
			seq, err := w.nextArchive()
			if err != nil {
				return nil, err
			}
			archived = seq
		}
		res, err := w.stmts.exec(insertRunSQL, runArgs(r, archived)...)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 1 {
			out = append(out, r)
		}
	}
	return out, nil
}

// activeChunk is how many jobs addActiveRuns asks about per query. The
// queries always carry this many IDs (padded with "", which no job has),
// so they are prepared once.
const activeChunk = 256

var (
	// runningOfSQL's last columns are the run's node's last heartbeat
	// (DueJob.AddRunning), NULL for a node without one.
	runningOfSQL = hot(`SELECT ` + runCols + `, (SELECT seen FROM nodes WHERE id = runs.node),
			(SELECT started FROM nodes WHERE id = runs.node)
		FROM runs WHERE state = 2 AND job_id IN (` + placeholders(activeChunk) + `) ORDER BY job_id, fence`)
	pendingOfSQL = hot(`SELECT job_id, count(*), min(due) FROM runs
		WHERE state = 1 AND job_id IN (` + placeholders(activeChunk) + `) GROUP BY job_id`)
)

// addActiveRuns fills in each claimed job's running runs (oldest first),
// how many of them node cannot count as confirmed, and its count of
// pending ones, a chunk of jobs per query.
func addActiveRuns(st *stmts, due []sundial.DueJob, node string) error {
	index := make(map[string]int, len(due))
	for i, d := range due {
		index[d.Job.ID] = i
	}
	args := make([]any, activeChunk)
	for start := 0; start < len(due); start += activeChunk {
		part := due[start:min(start+activeChunk, len(due))]
		for i := range args {
			args[i] = ""
			if i < len(part) {
				args[i] = part[i].Job.ID
			}
		}
		if err := addRunning(st, due, index, args, node); err != nil {
			return err
		}
		if err := addPending(st, due, index, args); err != nil {
			return err
		}
	}
	return nil
}

// addRunning fills in the running runs of the jobs named in args, each
// with its node's last heartbeat (DueJob.AddRunning).
func addRunning(st *stmts, due []sundial.DueJob, index map[string]int, args []any, node string) error {
	rows, err := st.query(runningOfSQL, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var seen, started time.Time
		r, err := scanRun(withExtra{rows, []any{timeScan{&seen}, timeScan{&started}}})
		if err != nil {
			return err
		}
		due[index[r.JobID]].AddRunning(r, seen, started, node)
	}
	return rows.Err()
}

// addPending fills in the count and earliest Due of the pending runs of
// the jobs named in args.
func addPending(st *stmts, due []sundial.DueJob, index map[string]int, args []any) error {
	rows, err := st.query(pendingOfSQL, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		var first time.Time
		if err := rows.Scan(&id, &n, timeScan{&first}); err != nil {
			return err
		}
		due[index[id]].Pending, due[index[id]].PendingDue = n, first
	}
	return rows.Err()
}
