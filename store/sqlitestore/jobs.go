package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sundialhq/sundial"
)

// AddJob stores a new job or, when one with its ID exists, follows policy:
// replace it (keeping its next fire when the trigger is unchanged and
// job.NextFire is zero, and releasing any claim on it), keep it, or fail
// with an error matching sundial.ErrConflict. It fails with a
// *sundial.FieldError for an invalid job.
func (s *Store) AddJob(ctx context.Context, job *sundial.Job, policy sundial.ConflictPolicy, now time.Time) (*sundial.Job, error) {
	if err := checkJob(ctx, job); err != nil {
		return nil, err
	}
	var out *sundial.Job
	changed := false
	err := s.write(ctx, "add job "+job.ID, func(tx *sql.Tx) error {
		old, err := getJob(ctx, tx, job.ID)
		if err != nil && !errors.Is(err, sundial.ErrNotFound) {
			return err
		}
		switch {
		case old != nil && policy == sundial.ConflictKeepExisting:
			out = old
			return nil
		case old != nil && policy == sundial.ConflictError:
			return conflict("job %s already exists", job.ID)
		}
		out, changed = replaced(old, job, now), true
		return putJob(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	if changed {
		s.publish(sundial.Notice{Kind: sundial.NoticeJobsChanged, JobID: out.ID, NextFire: out.NextFire})
	}
	return out, nil
}

// AddJobs adds many jobs in one transaction, each as AddJob would under
// policy, for imports and for creating jobs in bulk: one disk flush for
// the lot instead of one each. It is all or nothing: a bad job (a
// *sundial.FieldError naming it as jobs[i]) or a conflict under
// ConflictError fails the call and stores none.
func (s *Store) AddJobs(ctx context.Context, jobs []*sundial.Job, policy sundial.ConflictPolicy, now time.Time) ([]*sundial.Job, error) {
	for i, j := range jobs {
		if err := checkJob(ctx, j); err != nil {
			return nil, sundial.PrefixField(fmt.Sprintf("jobs[%d]", i), err)
		}
	}
	out := make([]*sundial.Job, len(jobs))
	var notices []sundial.Notice
	err := s.write(ctx, fmt.Sprintf("add %d jobs", len(jobs)), func(tx *sql.Tx) error {
		notices = notices[:0]
		for i, job := range jobs {
			old, err := getJob(ctx, tx, job.ID)
			if err != nil && !errors.Is(err, sundial.ErrNotFound) {
				return err
			}
			switch {
			case old != nil && policy == sundial.ConflictKeepExisting:
				out[i] = old
				continue
			case old != nil && policy == sundial.ConflictError:
				return conflict("job %s already exists", job.ID)
			}
			out[i] = replaced(old, job, now)
			if err := putJob(ctx, tx, out[i]); err != nil {
				return err
			}
			notices = append(notices, sundial.Notice{Kind: sundial.NoticeJobsChanged, JobID: job.ID, NextFire: out[i].NextFire})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.publish(notices...)
	return out, nil
}

// replaced returns a copy of job as it replaces old (nil: a new job).
func replaced(old, job *sundial.Job, now time.Time) *sundial.Job {
	j := job.Clone()
	j.Stamp(old, now)
	return j
}

// putJob writes j whole, replacing any row with its ID; the claim columns
// start NULL, so a replaced job's claim is released.
func putJob(ctx context.Context, tx *sql.Tx, j *sundial.Job) error {
	spec, err := encodeJob(j)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `REPLACE INTO jobs (id, task, paused, instances, version, next_fire, spec, args)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		j.ID, j.Task, j.Paused, j.Instances(), j.Version, nullTime(j.NextFire), spec, []byte(j.Args))
	return err
}

// getJob reads one job, or fails with ErrNotFound.
func getJob(ctx context.Context, q querier, id string) (*sundial.Job, error) {
	j, err := scanJob(q.QueryRowContext(ctx, `SELECT `+jobCols+` FROM jobs WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("job %s", id)
	}
	return j, err
}

// GetJob returns the job with the given ID, or an error matching
// sundial.ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id string) (*sundial.Job, error) {
	j, err := getJob(ctx, s.db, id)
	return j, s.fail(ctx, "get job "+id, err)
}

// ListJobs returns the jobs that match f, ordered by ID.
func (s *Store) ListJobs(ctx context.Context, f sundial.JobFilter) ([]*sundial.Job, error) {
	where, args := []string{"id > ?"}, []any{f.After}
	if f.Task != "" {
		where, args = append(where, "task = ?"), append(args, f.Task)
	}
	if f.Paused != nil {
		where, args = append(where, "paused = ?"), append(args, *f.Paused)
	}
	if f.Tag != "" {
		where = append(where, "EXISTS (SELECT 1 FROM json_each(spec, '$.tags') WHERE value = ?)")
		args = append(args, f.Tag)
	}
	query := `SELECT ` + jobCols + ` FROM jobs WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id`
	if f.Limit > 0 {
		query, args = query+` LIMIT ?`, append(args, f.Limit)
	}
	jobs, err := listJobs(ctx, s.db, query, args...)
	return jobs, s.fail(ctx, "list jobs", err)
}

func listJobs(ctx context.Context, q querier, query string, args ...any) ([]*sundial.Job, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*sundial.Job
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

// UpdateJob replaces a job whose Version matches the stored one, releasing
// any claim on it, and returns it with the new Version. It fails with
// errors matching sundial.ErrNotFound, sundial.ErrConflict (a stale
// Version), or a *sundial.FieldError.
func (s *Store) UpdateJob(ctx context.Context, job *sundial.Job, now time.Time) (*sundial.Job, error) {
	if err := checkJob(ctx, job); err != nil {
		return nil, err
	}
	var out *sundial.Job
	err := s.write(ctx, "update job "+job.ID, func(tx *sql.Tx) error {
		old, err := getJob(ctx, tx, job.ID)
		if err != nil {
			return err
		}
		if old.Version != job.Version {
			return conflict("job %s was changed meanwhile (version %d, not %d)", job.ID, old.Version, job.Version)
		}
		out = job.Clone()
		out.Created, out.Updated, out.Version = old.Created, now, old.Version+1
		return putJob(ctx, tx, out)
	})
	if err != nil {
		return nil, err
	}
	s.publish(sundial.Notice{Kind: sundial.NoticeJobsChanged, JobID: out.ID, NextFire: out.NextFire})
	return out, nil
}

// RemoveJob deletes a job (its runs stay), or fails with an error matching
// sundial.ErrNotFound.
func (s *Store) RemoveJob(ctx context.Context, id string) error {
	err := s.write(ctx, "remove job "+id, func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, `DELETE FROM jobs WHERE id = ?`, id)
		if err == nil && n == 0 {
			err = notFound("job %s", id)
		}
		return err
	})
	if err != nil {
		return err
	}
	s.publish(sundial.Notice{Kind: sundial.NoticeJobsChanged, JobID: id})
	return nil
}

// RemoveAllJobs deletes every job and returns how many there were.
func (s *Store) RemoveAllJobs(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, "remove all jobs", func(tx *sql.Tx) (err error) {
		n, err = execCount(ctx, tx, `DELETE FROM jobs`)
		return err
	})
	if err != nil {
		return 0, err
	}
	s.publish(sundial.Notice{Kind: sundial.NoticeJobsChanged})
	return int(n), nil
}

// execCount runs a statement and returns the rows it changed.
func execCount(ctx context.Context, tx *sql.Tx, query string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
