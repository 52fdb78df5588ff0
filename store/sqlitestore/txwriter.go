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
	insertQ *sql.Stmt
	commitQ *sql.Stmt
	archive int64 // the last archive number taken, once loaded
	taken   bool
}

// inWriter runs fn with a txWriter on tx, then writes its counter back.
func inWriter(ctx context.Context, tx *sql.Tx, fn func(*txWriter) error) error {
	w := &txWriter{ctx: ctx, tx: tx, stmts: stmts{ctx: ctx, tx: tx}}
	defer w.close()
	if err := fn(w); err != nil || !w.taken {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE counters SET value = ? WHERE name = 'archive'`, w.archive)
	return err
}

// nextArchive returns the next number of the order of finished runs.
func (w *txWriter) nextArchive() (int64, error) {
	if !w.taken {
		err := w.tx.QueryRowContext(w.ctx, `SELECT value FROM counters WHERE name = 'archive'`).Scan(&w.archive)
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
const commitSQL = `UPDATE jobs SET next_fire = ?, claim_token = NULL, claim_node = NULL, claim_until = NULL
	WHERE id = ? AND claim_token = ?`

// exec runs the statement *stmt, preparing it from query on first use.
func (w *txWriter) exec(stmt **sql.Stmt, query string, args ...any) (sql.Result, error) {
	if *stmt == nil {
		s, err := w.tx.PrepareContext(w.ctx, query)
		if err != nil {
			return nil, err
		}
		*stmt = s
	}
	return (*stmt).ExecContext(w.ctx, args...)
}

func (w *txWriter) close() {
	for _, s := range []*sql.Stmt{w.insertQ, w.commitQ} {
		if s != nil {
			s.Close()
		}
	}
	w.stmts.close()
}

// stmts prepares each statement once per transaction: a batch of a
// thousand runs runs the same few statements a thousand times, and
// preparing them each time cost more than running them.
type stmts struct {
	ctx context.Context
	tx  *sql.Tx
	m   map[string]*sql.Stmt
}

func (s *stmts) get(query string) (*sql.Stmt, error) {
	if st := s.m[query]; st != nil {
		return st, nil
	}
	st, err := s.tx.PrepareContext(s.ctx, query)
	if err != nil {
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
	out, err := w.exec(&w.commitQ, commitSQL, nullTime(c.NextFire), c.JobID, c.Token)
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
		if _, err := w.tx.ExecContext(w.ctx, `UPDATE runs SET cancel = 1 WHERE id = ? AND state = 2`, id); err != nil {
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
		res, err := w.exec(&w.insertQ, insertRunSQL, runArgs(r, archived)...)
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

// addActiveRuns fills in each claimed job's running runs (oldest first)
// and its count of pending ones, a chunk of jobs per query.
func addActiveRuns(ctx context.Context, tx *sql.Tx, due []sundial.DueJob) error {
	const chunk = 500
	index := make(map[string]int, len(due))
	for i, d := range due {
		index[d.Job.ID] = i
	}
	for start := 0; start < len(due); start += chunk {
		part := due[start:min(start+chunk, len(due))]
		in, args := inList(part)
		running, err := scanRuns(tx.QueryContext(ctx, `SELECT `+runCols+` FROM runs
			WHERE state = 2 AND job_id IN (`+in+`) ORDER BY job_id, fence`, args...))
		if err != nil {
			return err
		}
		for _, r := range running {
			d := &due[index[r.JobID]]
			d.Running = append(d.Running, r)
		}
		if err := addPending(ctx, tx, due, index, in, args); err != nil {
			return err
		}
	}
	return nil
}

func addPending(ctx context.Context, tx *sql.Tx, due []sundial.DueJob, index map[string]int, in string, args []any) error {
	rows, err := tx.QueryContext(ctx, `SELECT job_id, count(*), min(due) FROM runs
		WHERE state = 1 AND job_id IN (`+in+`) GROUP BY job_id`, args...)
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

// inList returns "?, ?, …" and the jobs' IDs as its arguments.
func inList(due []sundial.DueJob) (string, []any) {
	args := make([]any, len(due))
	for i, d := range due {
		args[i] = d.Job.ID
	}
	return placeholders(len(due)), args
}
