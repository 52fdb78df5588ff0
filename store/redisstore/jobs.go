package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/sundialhq/sundial"
)

// maxPutTries bounds how often AddJob reads a job again because another
// Store changed it between its read and its write.
const maxPutTries = 16

// AddJob stores a new job or, when one with its ID exists, follows policy:
// replace it (keeping its next fire when the trigger is unchanged and
// job.NextFire is zero, and releasing any claim on it), keep it, or fail
// with an error matching sundial.ErrConflict. It fails with a
// *sundial.FieldError for an invalid job.
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

// AddJobs adds many jobs in one script, each as AddJob would under
// policy, for imports and for creating jobs in bulk. It is all or
// nothing: a bad job (a *sundial.FieldError naming it as jobs[i]) or a
// conflict under ConflictError fails the call and stores none.
func (s *Store) AddJobs(ctx context.Context, jobs []*sundial.Job, policy sundial.ConflictPolicy, now time.Time) ([]*sundial.Job, error) {
	for i, j := range jobs {
		if err := checkJob(ctx, j); err != nil {
			return nil, sundial.PrefixField(fmt.Sprintf("jobs[%d]", i), err)
		}
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	return s.addJobs(ctx, fmt.Sprintf("add %d jobs", len(jobs)), jobs, policy, now)
}

// addJobs reads the stored jobs of jobs' IDs, decides each by policy and
// writes those to write, if no other Store changed them in between (else
// it reads again).
func (s *Store) addJobs(ctx context.Context, op string, jobs []*sundial.Job, policy sundial.ConflictPolicy, now time.Time) ([]*sundial.Job, error) {
	ids := make([]string, len(jobs))
	for i, j := range jobs {
		ids[i] = j.ID
	}
	for range maxPutTries {
		old, err := s.getJobs(ctx, op, ids)
		if err != nil {
			return nil, err
		}
		out, puts, err := decide(jobs, old, policy, now)
		if err != nil {
			return nil, err
		}
		if ok, err := s.putJobs(ctx, op, puts); err != nil || ok {
			return out, err
		}
	}
	return nil, conflict("%s: the jobs change too often", op)
}

// decide applies policy to each job against the stored one (old[i], or
// an earlier job of the batch with its ID), and returns what AddJobs
// returns and the jobs to write, one per ID.
func decide(jobs, old []*sundial.Job, policy sundial.ConflictPolicy, now time.Time) ([]*sundial.Job, []put, error) {
	out := make([]*sundial.Job, len(jobs))
	latest := map[string]*sundial.Job{}
	stored := map[string]string{} // ID → the stored version a write replaces
	written := map[string]bool{}
	var order []string // the IDs written, first seen first
	for i, job := range jobs {
		prev, seen := latest[job.ID]
		if !seen {
			prev, stored[job.ID] = old[i], ""
			if old[i] != nil {
				stored[job.ID] = strconv.FormatInt(old[i].Version, 10)
			}
		}
		switch {
		case prev != nil && policy == sundial.ConflictKeepExisting:
			out[i] = prev
			continue
		case prev != nil && policy == sundial.ConflictError:
			return nil, nil, conflict("job %s already exists", job.ID)
		}
		out[i] = replaced(prev, job, now)
		if _, ok := written[job.ID]; !ok {
			order = append(order, job.ID)
		}
		latest[job.ID], written[job.ID] = out[i], true
	}
	puts := make([]put, 0, len(order))
	for _, id := range order {
		puts = append(puts, put{latest[id], stored[id]})
	}
	return out, puts, nil
}

// checkJob makes the memory store's checks of a job to add or update.
func checkJob(ctx context.Context, job *sundial.Job) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return job.Validate()
}

// replaced returns a copy of job as it replaces old (nil: a new job).
func replaced(old, job *sundial.Job, now time.Time) *sundial.Job {
	j := job.Clone()
	j.Stamp(old, now)
	return j
}

// put is a job to write and the version it must replace ("": none).
type put struct {
	job    *sundial.Job
	expect string
}

// putJobs writes the jobs whole if each stored version is as expected,
// and reports whether it did; it writes none otherwise.
func (s *Store) putJobs(ctx context.Context, op string, puts []put) (bool, error) {
	if len(puts) == 0 {
		return true, nil
	}
	args := []any{strconv.Itoa(len(puts))}
	for _, p := range puts {
		a, err := jobArgs(p.job)
		if err != nil {
			return false, err
		}
		args = append(append(args, p.job.ID, p.expect), a...)
	}
	v, err := s.run(ctx, putJobScript, op, args...)
	if err != nil {
		return false, err
	}
	res := list(v)
	if len(res) != 2 || str(res[0]) != "ok" {
		return false, nil
	}
	s.deliver(str(res[1]))
	return true, nil
}

// getJobs reads the jobs named by ids: nil where there is none.
func (s *Store) getJobs(ctx context.Context, op string, ids []string) ([]*sundial.Job, error) {
	args := make([]any, 0, 1+len(ids))
	args = append(args, "ids")
	for _, id := range ids {
		args = append(args, id)
	}
	v, err := s.run(ctx, getJobsScript, op, args...)
	if err != nil {
		return nil, err
	}
	l := list(v)
	if len(l) != 2*len(ids) {
		return nil, corrupt("%s: unexpected reply", op)
	}
	out := make([]*sundial.Job, len(ids))
	for i := range ids {
		if l[2*i] == nil {
			continue
		}
		if out[i], err = decodeJob(str(l[2*i]), str(l[2*i+1])); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// getJob reads a job, or nil when there is none.
func (s *Store) getJob(ctx context.Context, id string) (*sundial.Job, error) {
	jobs, err := s.getJobs(ctx, "get job "+id, []string{id})
	if err != nil {
		return nil, err
	}
	return jobs[0], nil
}

// GetJob returns the job with the given ID, or an error matching
// sundial.ErrNotFound.
func (s *Store) GetJob(ctx context.Context, id string) (*sundial.Job, error) {
	j, err := s.getJob(ctx, id)
	if err == nil && j == nil {
		err = notFound("job %s", id)
	}
	return j, err
}

// ListJobs returns the jobs that match f, ordered by ID (byte order).
func (s *Store) ListJobs(ctx context.Context, f sundial.JobFilter) ([]*sundial.Job, error) {
	paused := ""
	if f.Paused != nil {
		paused = "0"
		if *f.Paused {
			paused = "1"
		}
	}
	v, err := s.run(ctx, getJobsScript, "list jobs", "list", f.Tag, f.Task, paused, f.After, strconv.Itoa(max(f.Limit, 0)))
	if err != nil {
		return nil, err
	}
	return decodeJobs(v)
}

// UpdateJob replaces a job whose Version matches the stored one, releasing
// any claim on it, and returns it with the new Version. It fails with
// errors matching sundial.ErrNotFound, sundial.ErrConflict (a stale
// Version), or a *sundial.FieldError.
func (s *Store) UpdateJob(ctx context.Context, job *sundial.Job, now time.Time) (*sundial.Job, error) {
	if err := checkJob(ctx, job); err != nil {
		return nil, err
	}
	old, err := s.getJob(ctx, job.ID)
	switch {
	case err != nil:
		return nil, err
	case old == nil:
		return nil, notFound("job %s", job.ID)
	case old.Version != job.Version:
		return nil, conflict("job %s was changed meanwhile (version %d, not %d)", job.ID, old.Version, job.Version)
	}
	out := job.Clone()
	out.Created, out.Updated, out.Version = old.Created, now, old.Version+1
	ok, err := s.putJobs(ctx, "update job "+job.ID, []put{{out, strconv.FormatInt(old.Version, 10)}})
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return nil, conflict("job %s was changed or removed meanwhile", job.ID)
	}
	return out, nil
}

// RemoveJob deletes a job (its runs stay), or fails with an error matching
// sundial.ErrNotFound.
func (s *Store) RemoveJob(ctx context.Context, id string) error {
	v, err := s.run(ctx, removeScript, "remove job "+id, "one", id)
	if err != nil {
		return err
	}
	res := list(v)
	if len(res) != 2 || res[0] != int64(1) {
		return notFound("job %s", id)
	}
	s.deliver(str(res[1]))
	return nil
}

// removeChunk is how many jobs one script of RemoveAllJobs deletes, so
// that no script holds Redis for long.
const removeChunk = 500

// RemoveAllJobs deletes every job and returns how many there were. It
// deletes them in chunks, each atomic; jobs added meanwhile by another
// Store may be deleted too.
func (s *Store) RemoveAllJobs(ctx context.Context) (int, error) {
	total := 0
	for {
		v, err := s.run(ctx, removeScript, "remove all jobs", "all", strconv.Itoa(removeChunk))
		if err != nil {
			return total, err
		}
		res := list(v)
		if len(res) != 2 {
			return total, corrupt("remove all jobs: unexpected reply")
		}
		n, _ := res[0].(int64)
		total += int(n)
		s.deliver(str(res[1]))
		if n < removeChunk {
			return total, nil
		}
	}
}
