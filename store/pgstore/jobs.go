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

// AddJob stores a new job or, when one with its ID exists, follows policy:
// replace it (keeping its next fire when the trigger is unchanged and
// job.NextFire is zero, and releasing any claim on it), keep it, or fail
// with an error matching sundial.ErrConflict. It fails with a
// *sundial.FieldError for an invalid job, or one whose next fire is
// outside the years 1678 to 2262.
func (s *Store) AddJob(ctx context.Context, job *sundial.Job, policy sundial.ConflictPolicy, now time.Time) (*sundial.Job, error) {
	if err := checkJob(ctx, job); err != nil {
		return nil, err
	}
	out, err := s.addJobs(ctx, "add job "+job.ID, []*sundial.Job{job}, policy, now)
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

// AddJobs adds many jobs in one transaction, each as AddJob would under
// policy, for imports and for creating jobs in bulk: a few round trips
// for the lot instead of a few each. It is all or nothing: a bad job (a
// *sundial.FieldError naming it as jobs[i]) or a conflict under
// ConflictError fails the call and stores none.
func (s *Store) AddJobs(ctx context.Context, jobs []*sundial.Job, policy sundial.ConflictPolicy, now time.Time) ([]*sundial.Job, error) {
	for i, j := range jobs {
		if err := checkJob(ctx, j); err != nil {
			return nil, sundial.PrefixField(fmt.Sprintf("jobs[%d]", i), err)
		}
	}
	if len(jobs) == 0 {
		return []*sundial.Job{}, nil
	}
	return s.addJobs(ctx, fmt.Sprintf("add %d jobs", len(jobs)), jobs, policy, now)
}

// addJobs adds jobs in one transaction: see jobAdder.
func (s *Store) addJobs(ctx context.Context, op string, jobs []*sundial.Job, policy sundial.ConflictPolicy, now time.Time) ([]*sundial.Job, error) {
	var a *jobAdder
	err := s.inTx(ctx, op, func(t *txn) error {
		a = &jobAdder{s: s, t: t, policy: policy, now: now, stored: map[string]*sundial.Job{}, inserted: map[string]bool{}}
		if err := a.insert(jobs); err != nil {
			return err
		}
		if err := a.decide(jobs); err != nil {
			return err
		}
		return a.commit()
	})
	if err != nil {
		return nil, err
	}
	s.announce(&a.notices)
	return a.out, nil
}

// jobAdder adds jobs in a transaction: it inserts those whose IDs are
// new, reads and locks the rows of the others, applies the conflict
// policy to each in order, and writes the replacements.
type jobAdder struct {
	s        *Store
	t        *txn
	policy   sundial.ConflictPolicy
	now      time.Time
	fresh    []*sundial.Job          // each job as a new one
	stored   map[string]*sundial.Job // ID → the job as it stands in this transaction
	inserted map[string]bool         // IDs inserted (their first occurrence)
	changes  jobRows                 // replacements to write
	out      []*sundial.Job
	notices  noticeSet
}

// insert inserts the new jobs and reads (locking) every job's row.
func (a *jobAdder) insert(jobs []*sundial.Job) error {
	rows, ids := &jobRows{}, make([]string, len(jobs))
	for i, j := range jobs {
		a.fresh, ids[i] = append(a.fresh, replaced(nil, j, a.now)), j.ID
		if err := rows.add(a.fresh[i]); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	b.Queue(a.s.sql(insertJobsSQL), rows.params()...).Query(func(r pgx.Rows) error { return collectIDs(r, a.inserted) })
	b.Queue(a.s.sql(`SELECT `+jobCols+` FROM {schema}.jobs WHERE id = ANY($1) FOR UPDATE`), ids).Query(func(r pgx.Rows) error {
		return collectJobs(r, a.stored)
	})
	return a.t.send(b)
}

// decide applies the policy to each job, in order.
func (a *jobAdder) decide(jobs []*sundial.Job) error {
	a.out = make([]*sundial.Job, len(jobs))
	for i, j := range jobs {
		if a.inserted[j.ID] { // its first occurrence is new
			delete(a.inserted, j.ID)
			a.keep(i, a.fresh[i])
			continue
		}
		old := a.stored[j.ID]
		switch {
		case old == nil: // removed between the two statements
			return errRace
		case a.policy == sundial.ConflictKeepExisting:
			a.out[i] = old
			continue
		case a.policy == sundial.ConflictError:
			return conflict("job %s already exists", j.ID)
		}
		if err := a.changes.add(a.keep(i, replaced(old, j, a.now))); err != nil {
			return err
		}
	}
	return nil
}

// keep records j as the outcome of jobs[i] and returns it.
func (a *jobAdder) keep(i int, j *sundial.Job) *sundial.Job {
	a.out[i], a.stored[j.ID] = j, j
	a.notices.add(sundial.NoticeJobsChanged, j.ID, j.NextFire)
	return j
}

// commit writes the replacements and commits.
func (a *jobAdder) commit() error {
	b := &pgx.Batch{}
	if len(a.changes.id) > 0 {
		b.Queue(a.s.sql(updateJobsSQL), a.changes.params()...)
	}
	return a.t.commit(b)
}

// collectIDs adds the IDs that rows return to set.
func collectIDs(rows pgx.Rows, set map[string]bool) error {
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		set[id] = true
	}
	return rows.Err()
}

// collectJobs adds the jobs that rows of jobCols return to m.
func collectJobs(rows pgx.Rows, m map[string]*sundial.Job) error {
	defer rows.Close()
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return err
		}
		m[j.ID] = j
	}
	return rows.Err()
}

// replaced returns a copy of job as it replaces old (nil: a new job).
func replaced(old, job *sundial.Job, now time.Time) *sundial.Job {
	j := job.Clone()
	j.Stamp(old, now)
	return j
}

// jobRows are jobs to write, column by column (see runRows).
type jobRows struct {
	id, task, spec []string
	paused         []bool
	instances      []int32
	version        []int64
	nextFire       []*int64
	args           [][]byte
}

func (jr *jobRows) add(j *sundial.Job) error {
	spec, err := encodeJob(j)
	if err != nil {
		return err
	}
	jr.id, jr.task, jr.spec = append(jr.id, j.ID), append(jr.task, j.Task), append(jr.spec, spec)
	jr.paused, jr.instances = append(jr.paused, j.Paused), append(jr.instances, int32(j.Instances()))
	jr.version, jr.nextFire = append(jr.version, j.Version), append(jr.nextFire, nullNs(j.NextFire))
	jr.args = append(jr.args, []byte(j.Args))
	return nil
}

func (jr *jobRows) params() []any {
	return []any{jr.id, jr.task, jr.paused, jr.instances, jr.version, jr.nextFire, jr.spec, jr.args}
}

// jobUnnest reads a jobRows' arrays as rows of u.
const jobUnnest = `unnest($1::text[], $2::text[], $3::bool[], $4::int4[], $5::int8[], $6::int8[], $7::text[], $8::bytea[])
	AS u(id, task, paused, instances, version, next_fire, spec, args)`

// insertJobsSQL inserts the jobs whose IDs are new and returns their IDs.
const insertJobsSQL = `INSERT INTO {schema}.jobs (id, task, paused, instances, version, next_fire, spec, args)
	SELECT id, task, paused, instances, version, next_fire, spec::json, args FROM ` + jobUnnest + `
	ON CONFLICT (id) DO NOTHING
	RETURNING id`

// updateJobsSQL writes jobs whole and releases their claims.
const updateJobsSQL = `UPDATE {schema}.jobs j SET task = u.task, paused = u.paused, instances = u.instances,
		version = u.version, next_fire = u.next_fire, spec = u.spec::json, args = u.args,
		claim_token = NULL, claim_node = NULL, claim_until = NULL
	FROM ` + jobUnnest + ` WHERE j.id = u.id`

// GetJob returns the job with the given ID, or an error matching
// sundial.ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id string) (*sundial.Job, error) {
	j, err := scanJob(s.pool.QueryRow(ctx, s.sql(`SELECT `+jobCols+` FROM {schema}.jobs WHERE id = $1`), id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("job %s", id)
	}
	return j, s.fail(ctx, "get job "+id, err)
}

// ListJobs returns the jobs that match f, ordered by ID (byte order).
func (s *Store) ListJobs(ctx context.Context, f sundial.JobFilter) ([]*sundial.Job, error) {
	where, args := []string{"id > $1"}, []any{f.After}
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	if f.Task != "" {
		add("task = $%d", f.Task)
	}
	if f.Paused != nil {
		add("paused = $%d", *f.Paused)
	}
	if f.Tag != "" {
		add("EXISTS (SELECT 1 FROM json_array_elements_text(spec->'tags') t WHERE t = $%d)", f.Tag)
	}
	query := `SELECT ` + jobCols + ` FROM {schema}.jobs WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id`
	if f.Limit > 0 {
		args = append(args, f.Limit)
		query += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	jobs, err := s.listJobs(ctx, query, args...)
	return jobs, s.fail(ctx, "list jobs", err)
}

func (s *Store) listJobs(ctx context.Context, query string, args ...any) ([]*sundial.Job, error) {
	rows, err := s.pool.Query(ctx, s.sql(query), args...)
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
	var n noticeSet
	err := s.inTx(ctx, "update job "+job.ID, func(t *txn) error {
		n = noticeSet{}
		var old *sundial.Job
		b := &pgx.Batch{}
		b.Queue(s.sql(`SELECT `+jobCols+` FROM {schema}.jobs WHERE id = $1 FOR UPDATE`), job.ID).QueryRow(func(row pgx.Row) (err error) {
			old, err = scanJob(row)
			if errors.Is(err, pgx.ErrNoRows) {
				return notFound("job %s", job.ID)
			}
			return err
		})
		if err := t.send(b); err != nil {
			return err
		}
		if old.Version != job.Version {
			return conflict("job %s was changed meanwhile (version %d, not %d)", job.ID, old.Version, job.Version)
		}
		out = job.Clone()
		out.Created, out.Updated, out.Version = old.Created, now, old.Version+1
		rows := &jobRows{}
		if err := rows.add(out); err != nil {
			return err
		}
		n.add(sundial.NoticeJobsChanged, out.ID, out.NextFire)
		b = &pgx.Batch{}
		b.Queue(s.sql(updateJobsSQL), rows.params()...)
		return t.commit(b)
	})
	if err != nil {
		return nil, err
	}
	s.announce(&n)
	return out, nil
}

// RemoveJob deletes a job (its runs stay), or fails with an error matching
// sundial.ErrNotFound.
func (s *Store) RemoveJob(ctx context.Context, id string) error {
	var n noticeSet
	err := s.inTx(ctx, "remove job "+id, func(t *txn) error {
		n = noticeSet{}
		deleted, err := t.deleteJobs(s.sql(`DELETE FROM {schema}.jobs WHERE id = $1`), id)
		if err != nil {
			return err
		}
		if deleted == 0 {
			return notFound("job %s", id)
		}
		n.add(sundial.NoticeJobsChanged, id, time.Time{})
		return nil
	})
	if err != nil {
		return err
	}
	s.announce(&n)
	return nil
}

// RemoveAllJobs deletes every job and returns how many there were.
func (s *Store) RemoveAllJobs(ctx context.Context) (int, error) {
	var deleted int64
	var n noticeSet
	err := s.inTx(ctx, "remove all jobs", func(t *txn) (err error) {
		n = noticeSet{}
		if deleted, err = t.deleteJobs(s.sql(`DELETE FROM {schema}.jobs`)); err != nil || deleted == 0 {
			return err
		}
		n.add(sundial.NoticeJobsChanged, "", time.Time{})
		return nil
	})
	if err != nil {
		return 0, err
	}
	s.announce(&n)
	return int(deleted), nil
}

// deleteJobs runs a DELETE in t and returns how many rows it deleted.
func (t *txn) deleteJobs(query string, args ...any) (int64, error) {
	var deleted int64
	b := &pgx.Batch{}
	b.Queue(query, args...).Exec(func(tag pgconn.CommandTag) error {
		deleted = tag.RowsAffected()
		return nil
	})
	return deleted, t.send(b)
}
