package redisstore

import (
	"context"
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
	op := "add job " + job.ID
	for range maxPutTries {
		old, err := s.getJob(ctx, job.ID)
		if err != nil {
			return nil, err
		}
		switch {
		case old != nil && policy == sundial.ConflictKeepExisting:
			return old, nil
		case old != nil && policy == sundial.ConflictError:
			return nil, conflict("job %s already exists", job.ID)
		}
		out := replaced(old, job, now)
		expect := ""
		if old != nil {
			expect = strconv.FormatInt(old.Version, 10)
		}
		if ok, err := s.putJob(ctx, op, out, expect); err != nil || ok {
			return out, err
		}
	}
	return nil, conflict("job %s changes too often to add", job.ID)
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
	j.Created, j.Updated, j.Version = now, now, 1
	if old != nil {
		j.Created, j.Version = old.Created, old.Version+1
		if j.NextFire.IsZero() && sameTrigger(old.Trigger, j.Trigger) {
			j.NextFire = old.NextFire
		}
	}
	return j
}

// sameTrigger reports whether two triggers have the same JSON form.
func sameTrigger(a, b sundial.Trigger) bool {
	x, err1 := a.MarshalJSON()
	y, err2 := b.MarshalJSON()
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// putJob writes j whole if the stored version is expect ("": no job), and
// reports whether it did.
func (s *Store) putJob(ctx context.Context, op string, j *sundial.Job, expect string) (bool, error) {
	args, err := jobArgs(j)
	if err != nil {
		return false, err
	}
	v, err := s.run(ctx, putJobScript, op, append([]any{j.ID, expect}, args...)...)
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

// getJob reads a job, or nil when there is none.
func (s *Store) getJob(ctx context.Context, id string) (*sundial.Job, error) {
	v, err := s.run(ctx, getJobsScript, "get job "+id, "one", id)
	if err != nil {
		return nil, err
	}
	jobs, err := decodeJobs(v)
	if err != nil || len(jobs) == 0 {
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
	ok, err := s.putJob(ctx, "update job "+job.ID, out, strconv.FormatInt(old.Version, 10))
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
		n, _ := res[0].(int64)
		total += int(n)
		s.deliver(str(res[1]))
		if n < removeChunk {
			return total, nil
		}
	}
}
