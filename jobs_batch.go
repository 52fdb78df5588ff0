package sundial

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// JobAdder is implemented by stores that add many jobs in one step (one
// transaction or script): sqlitestore, pgstore and redisstore. The
// Scheduler's AddJobs uses it when the store has it.
type JobAdder interface {
	// AddJobs does what AddJob does for each job, all or nothing: on an
	// error nothing is stored, and a *FieldError names the job by index
	// ("jobs[3].task").
	AddJobs(ctx context.Context, jobs []*Job, policy ConflictPolicy, now time.Time) ([]*Job, error)
}

// lookups bounds the concurrent GetJob calls with which AddJobs keeps the
// schedules of re-declared jobs.
const lookups = 16

// AddJobs adds many jobs as AddJob adds one, in one call to the store when
// it is a JobAdder (every store in this module is): a service declaring
// thousands of jobs on start does not pay a round trip each. Every job is
// checked before any is stored; a bad one fails the call with a
// *FieldError naming it by index ("jobs[3].task"), and nothing is stored.
// With ConflictReplace, a job whose schedule is unchanged keeps its stored
// next fire, as with AddJob. On a store that is not a JobAdder the jobs
// are added one by one, and a store error leaves those before it stored.
func (s *Scheduler) AddJobs(ctx context.Context, jobs []*Job, opts *AddOptions) ([]*Job, error) {
	policy := ConflictError
	if opts != nil {
		policy = opts.OnConflict
	}
	if policy > ConflictError {
		return nil, invalid("conflict", "unknown policy %d", policy)
	}
	slab := make([]Job, len(jobs)) // one allocation for the batch's copies
	prepared := make([]*Job, len(jobs))
	seen := make(map[string]int, len(jobs))
	now := s.clock.Now()
	for i, job := range jobs {
		j := &slab[i]
		if err := s.prepare(job, now, j); err != nil {
			return nil, indexField(i, err)
		}
		if k, dup := seen[j.ID]; dup {
			return nil, &FieldError{Field: fmt.Sprintf("jobs[%d].id", i), Problem: fmt.Sprintf("%q is also jobs[%d]", j.ID, k)}
		}
		seen[j.ID] = i
		prepared[i] = j
	}
	if policy == ConflictReplace {
		s.keepSchedules(ctx, jobs, prepared)
	}
	var stored []*Job
	var err error
	if s.mem != nil { // the prepared jobs are ours to hand over
		stored, err = s.mem.addOwnedJobs(prepared, policy, now)
	} else if a, ok := s.store.(JobAdder); ok && len(prepared) > 0 {
		stored, err = a.AddJobs(ctx, prepared, policy, now)
	} else {
		stored, err = s.addEach(ctx, prepared, policy)
	}
	if err != nil {
		return nil, err
	}
	for _, j := range stored {
		s.jobStored(j)
	}
	return stored, nil
}

// keepSchedules does keepSchedule for each re-declared job, a bounded
// number of lookups at a time.
func (s *Scheduler) keepSchedules(ctx context.Context, jobs, prepared []*Job) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, lookups)
	for i, j := range prepared {
		if !jobs[i].NextFire.IsZero() {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			s.keepSchedule(ctx, j, jobs[i].Trigger)
		})
	}
	wg.Wait()
}

// addEach adds prepared jobs one by one, for stores without AddJobs. A
// failure leaves the jobs before it stored.
func (s *Scheduler) addEach(ctx context.Context, prepared []*Job, policy ConflictPolicy) ([]*Job, error) {
	out := make([]*Job, 0, len(prepared))
	for i, j := range prepared {
		stored, err := s.store.AddJob(ctx, j, policy, s.clock.Now())
		if err != nil {
			return out, indexField(i, err)
		}
		out = append(out, stored)
	}
	return out, nil
}

// indexField names the job of a batch an error is about: a *FieldError's
// field gets the prefix jobs[i], other errors are wrapped with it.
func indexField(i int, err error) error {
	prefix := fmt.Sprintf("jobs[%d]", i)
	if fe := (*FieldError)(nil); errors.As(err, &fe) {
		return PrefixField(prefix, err)
	}
	return fmt.Errorf("%s: %w", prefix, err)
}
