package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sundialhq/sundial"
)

// GetRun returns a run by ID, or an error matching sundial.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, id string) (*sundial.Run, error) {
	r, err := scanRun(s.pool.QueryRow(ctx, s.sql(`SELECT `+runCols("")+` FROM {schema}.runs WHERE id = $1`), id))
	if errors.Is(err, pgx.ErrNoRows) {
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
	args = append(args, f.Limit)
	query := fmt.Sprintf(`SELECT %s FROM {schema}.runs%s ORDER BY scheduled DESC, id DESC LIMIT $%d`,
		runCols(""), where, len(args))
	rows, err := s.pool.Query(ctx, s.sql(query), args...)
	if err != nil {
		return nil, s.fail(ctx, "list runs", err)
	}
	runs, err := scanRuns(rows)
	return runs, s.fail(ctx, "list runs", err)
}

// runWhere returns the WHERE clause (or "") that selects f's runs, and its
// arguments.
func runWhere(f sundial.RunFilter) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, strings.ReplaceAll(cond, "$?", fmt.Sprintf("$%d", len(args))))
	}
	if f.JobID != "" {
		add("job_id = $?", f.JobID)
	}
	if !f.From.IsZero() {
		add("scheduled >= $?", ns(f.From))
	}
	if !f.To.IsZero() {
		add("scheduled < $?", ns(f.To))
	}
	if f.Node != "" {
		add("node = $?", f.Node)
	}
	if !f.StartedBefore.IsZero() { // never started: zeroNs, below every other
		add("started > $?", int64(zeroNs))
		add("started < $?", ns(f.StartedBefore))
	}
	if len(f.States) > 0 {
		states := make([]int16, len(f.States))
		for i, st := range f.States {
			states[i] = int16(st)
		}
		add("state = ANY($?)", states)
	}
	if f.Before != "" {
		add(`(NOT EXISTS (SELECT 1 FROM {schema}.runs WHERE id = $?)
			OR (scheduled, id) < (SELECT scheduled, id FROM {schema}.runs WHERE id = $?))`, f.Before)
	}
	if len(where) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(where, " AND "), args
}

// PruneRuns deletes finished runs that finished longer than r.MaxAge
// before now, and those beyond the r.KeepPerJob most recently finished of
// their job, and returns how many, in one transaction. Pending and
// running runs stay. It fails with a *sundial.FieldError for a negative
// bound.
func (s *Store) PruneRuns(ctx context.Context, r sundial.Retention, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if r.MaxAge < 0 || r.KeepPerJob < 0 {
		return 0, invalid("retention", "negative bound")
	}
	if r.MaxAge == 0 && r.KeepPerJob == 0 {
		return 0, nil
	}
	var n int64
	count := func(tag pgconn.CommandTag) error {
		n += tag.RowsAffected()
		return nil
	}
	err := s.send(ctx, "prune runs", func(b *pgx.Batch) {
		n = 0
		// Beyond KeepPerJob first: the ranks count the whole history.
		if r.KeepPerJob > 0 {
			b.Queue(s.sql(`DELETE FROM {schema}.runs WHERE id IN (
				SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY job_id ORDER BY archived DESC) AS rank
					FROM {schema}.runs WHERE archived IS NOT NULL) ranked
				WHERE rank > $1)`), r.KeepPerJob).Exec(count)
		}
		if r.MaxAge > 0 {
			b.Queue(s.sql(`DELETE FROM {schema}.runs WHERE archived IS NOT NULL AND finished < $1`),
				ns(now.Add(-r.MaxAge))).Exec(count)
		}
	})
	return int(n), err
}
