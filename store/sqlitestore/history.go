package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/sundialhq/sundial"
)

// GetRun returns a run by ID, or an error matching sundial.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, id string) (*sundial.Run, error) {
	r, err := scanRun(s.db.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("run %s", id)
	}
	return r, s.fail(ctx, "get run "+id, err)
}

// ListRuns returns the runs that match f, newest Scheduled first (ties:
// greatest ID first), at most f.Limit (zero: 100). f.Before continues a
// listing after the run with that ID; an unknown ID is ignored.
func (s *Store) ListRuns(ctx context.Context, f sundial.RunFilter) ([]*sundial.Run, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	where, args := runWhere(f)
	query := `SELECT ` + runCols + ` FROM runs` + where + ` ORDER BY scheduled DESC, id DESC LIMIT ?`
	runs, err := scanRuns(s.db.QueryContext(ctx, query, append(args, f.Limit)...))
	return runs, s.fail(ctx, "list runs", err)
}

// runWhere returns the WHERE clause (or "") that selects f's runs, and its
// arguments.
func runWhere(f sundial.RunFilter) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) {
		where, args = append(where, cond), append(args, arg...)
	}
	if f.JobID != "" {
		add("job_id = ?", f.JobID)
	}
	if !f.From.IsZero() {
		add("scheduled >= ?", timeText(f.From))
	}
	if !f.To.IsZero() {
		add("scheduled < ?", timeText(f.To))
	}
	if f.Node != "" {
		add("node = ?", f.Node)
	}
	if !f.StartedBefore.IsZero() { // the zero Time, never started, sorts first
		add("started > ? AND started < ?", timeText(time.Time{}), timeText(f.StartedBefore))
	}
	if len(f.States) > 0 {
		states := make([]any, len(f.States))
		for i, st := range f.States {
			states[i] = int(st)
		}
		add("state IN ("+placeholders(len(states))+")", states...)
	}
	if f.Before != "" {
		add(`(NOT EXISTS (SELECT 1 FROM runs WHERE id = ?)
			OR (scheduled, id) < (SELECT scheduled, id FROM runs WHERE id = ?))`, f.Before, f.Before)
	}
	if len(where) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(where, " AND "), args
}

// placeholders returns "?, ?, …" for n arguments.
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// PruneRuns deletes finished runs that finished longer than r.MaxAge
// before now, and those beyond the r.KeepPerJob most recently finished of
// their job, and returns how many. Pending and running runs stay. It fails
// with a *sundial.FieldError for a negative bound.
func (s *Store) PruneRuns(ctx context.Context, r sundial.Retention, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if r.MaxAge < 0 || r.KeepPerJob < 0 {
		return 0, invalid("retention", "negative bound")
	}
	var n int64
	err := s.write(ctx, "prune runs", func(tx *sql.Tx) error {
		// Beyond KeepPerJob first: the ranks count the whole history.
		beyond, err := pruneBeyond(ctx, tx, r.KeepPerJob)
		if err != nil {
			return err
		}
		older, err := pruneOlder(ctx, tx, r.MaxAge, now)
		n = beyond + older
		return err
	})
	return int(n), err
}

// pruneBeyond deletes each job's finished runs beyond the keep most
// recently finished; zero keeps all.
func pruneBeyond(ctx context.Context, tx *sql.Tx, keep int) (int64, error) {
	if keep == 0 {
		return 0, nil
	}
	return execCount(ctx, tx, `DELETE FROM runs WHERE id IN (
		SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY job_id ORDER BY archived DESC) AS rank
			FROM runs WHERE archived IS NOT NULL)
		WHERE rank > ?)`, keep)
}

// pruneOlder deletes the runs that finished before now - age; zero keeps
// all.
func pruneOlder(ctx context.Context, tx *sql.Tx, age time.Duration, now time.Time) (int64, error) {
	if age == 0 {
		return 0, nil
	}
	return execCount(ctx, tx, `DELETE FROM runs WHERE archived IS NOT NULL AND finished < ?`, timeText(now.Add(-age)))
}
