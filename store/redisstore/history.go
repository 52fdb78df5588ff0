package redisstore

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/sundialhq/sundial"
)

// GetRun returns a run by ID, or an error matching sundial.ErrNotFound.
func (s *Store) GetRun(ctx context.Context, id string) (*sundial.Run, error) {
	v, err := s.run(ctx, getRunsScript, "get run "+id, "one", id)
	if err != nil {
		return nil, err
	}
	runs, err := decodeRuns(v)
	if err == nil && len(runs) == 0 {
		err = notFound("run %s", id)
	}
	if err != nil {
		return nil, err
	}
	return runs[0], nil
}

// ListRuns returns the runs that match f, newest Scheduled first (ties:
// greatest ID first), at most f.Limit (zero: 100). f.Before continues a
// listing after the run with that ID; an unknown ID is ignored. Runs are
// indexed by Scheduled to the microsecond (see the package
// documentation), so From and To are as exact.
func (s *Store) ListRuns(ctx context.Context, f sundial.RunFilter) ([]*sundial.Run, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	states := make([]string, len(f.States))
	for i, st := range f.States {
		states[i] = strconv.Itoa(int(st))
	}
	from, to := "", ""
	if !f.From.IsZero() {
		from = micros(f.From)
	}
	if !f.To.IsZero() {
		to = micros(f.To)
	}
	startedBefore := ""
	if !f.StartedBefore.IsZero() {
		startedBefore = f.StartedBefore.UTC().Format("2006-01-02T15:04:05.000000000") // getruns.lua's width
	}
	v, err := s.run(ctx, getRunsScript, "list runs", "list", f.JobID, strings.Join(states, ","),
		from, to, f.Before, strconv.Itoa(f.Limit), f.Node, startedBefore)
	if err != nil {
		return nil, err
	}
	return decodeRuns(v)
}

// pruneChunk bounds the runs one script of PruneRuns deletes by age.
const pruneChunk = 1000

// PruneRuns deletes finished runs beyond the r.KeepPerJob most recently
// finished of their job, then those that finished longer than r.MaxAge
// before now, and returns how many. Pending and running runs stay. It
// works in chunks, each atomic, so that no script holds Redis for long.
// It fails with a *sundial.FieldError for a negative bound.
func (s *Store) PruneRuns(ctx context.Context, r sundial.Retention, now time.Time) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if r.MaxAge < 0 || r.KeepPerJob < 0 {
		return 0, invalid("retention", "negative bound")
	}
	n := 0
	if r.KeepPerJob > 0 {
		for cursor := "0"; ; {
			v, err := s.run(ctx, pruneScript, "prune runs", "keep", strconv.Itoa(r.KeepPerJob), cursor)
			if err != nil {
				return n, err
			}
			res := list(v)
			if len(res) != 2 {
				return n, corrupt("prune runs: unexpected reply")
			}
			k, _ := res[0].(int64)
			n, cursor = n+int(k), str(res[1])
			if cursor == "0" {
				break
			}
		}
	}
	if r.MaxAge == 0 {
		return n, nil
	}
	for {
		v, err := s.run(ctx, pruneScript, "prune runs", "age", micros(now.Add(-r.MaxAge)), strconv.Itoa(pruneChunk))
		if err != nil {
			return n, err
		}
		res := list(v)
		if len(res) != 1 {
			return n, corrupt("prune runs: unexpected reply")
		}
		k, _ := res[0].(int64)
		if n += int(k); k < pruneChunk {
			return n, nil
		}
	}
}
