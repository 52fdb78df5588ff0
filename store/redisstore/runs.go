package redisstore

import (
	"context"
	"slices"
	"strconv"

	"github.com/sundialhq/sundial"
)

// ClaimRuns starts pending runs due by c.Horizon, oldest Due first, up to
// c.Limit per executor ("" is "default"), while each run's job has fewer
// than its MaxInstances runs running cluster-wide (1 for a removed job).
// Each started run gets Node, Started = c.Now and the job's next fencing
// token. It is one script: nodes racing for the same runs start each at
// most once.
func (s *Store) ClaimRuns(ctx context.Context, c sundial.RunClaim) ([]*sundial.Run, error) {
	args := []any{c.Node, timeText(c.Now), micros(c.Horizon)}
	executors := make([]string, 0, len(c.Limit))
	for e, n := range c.Limit {
		if n > 0 {
			executors = append(executors, e)
		}
	}
	if len(executors) == 0 {
		return nil, ctx.Err()
	}
	slices.Sort(executors) // the same order every call
	for _, e := range executors {
		args = append(args, poolOf(e), strconv.Itoa(c.Limit[e]))
	}
	v, err := s.run(ctx, claimRunScript, "claim runs", args...)
	if err != nil {
		return nil, err
	}
	return decodeRuns(v)
}

// FinishRun records a running run's end (State, Finished, Error, Stack,
// Reason, and Started: zero when the task never began) and, in the same
// script, inserts retry when not nil. It fails with a *sundial.FieldError
// for a state that is not final or an invalid retry, with an error
// matching sundial.ErrConflict when the run is not running on run.Node,
// and with one matching ErrRunVanished (and sundial.ErrNotFound) when the
// run has no record: see FinishRuns.
func (s *Store) FinishRun(ctx context.Context, run *sundial.Run, retry *sundial.Run) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.FinishRuns(ctx, []sundial.RunEnd{{Run: run, Retry: retry}})[0]
}

// FinishRuns records many run ends in one script (one round trip): each
// as FinishRun would, atomically, with an error per end, in order. An end
// refused (bad input, a run not running on its node) does not stop the
// others; a Redis error fails them all.
//
// A run with no record at all is one its node held while Redis lost the
// writes that created or started it (persistence that is not appendfsync
// always, a restart). Its end is written back as the record of its fire,
// unless another run holds the fire's key meanwhile, so that the fire is
// not run again; its retry is not inserted; and the end fails with an
// error matching ErrRunVanished, which the scheduler logs.
func (s *Store) FinishRuns(ctx context.Context, ends []sundial.RunEnd) []error {
	errs := make([]error, len(ends))
	if err := ctx.Err(); err != nil {
		return fill(errs, err)
	}
	var args []any
	var sent []int // the ends sent to the script, by index
	for i, e := range ends {
		a, err := endArgs(e)
		if errs[i] = err; err == nil {
			args = append(args, a...)
			sent = append(sent, i)
		}
	}
	if len(sent) == 0 {
		return errs
	}
	v, err := s.run(ctx, finishScript, "finish runs", args...)
	if err != nil {
		for _, i := range sent {
			errs[i] = err
		}
		return errs
	}
	res := list(v)
	if len(res) != len(sent)+1 {
		return fill(errs, corrupt("finish runs: unexpected reply"))
	}
	for k, i := range sent {
		errs[i] = s.ended(ctx, ends[i].Run, list(res[k]))
	}
	s.deliver(str(res[len(sent)]))
	return errs
}

// endArgs are finish.lua's arguments for one end.
func endArgs(e sundial.RunEnd) ([]any, error) {
	if err := sundial.CheckFinish(e.Run, e.Retry); err != nil {
		return nil, err
	}
	r := e.Run
	a := []any{r.ID, r.Node, strconv.Itoa(int(r.State)), micros(r.Finished), timeText(r.Finished),
		timeText(r.Started), r.Error, r.Stack, r.Reason, "0"}
	if e.Retry == nil {
		return a, nil
	}
	_, ra, err := newRun(e.Retry, r.Finished)
	if err != nil {
		return nil, err
	}
	a[9] = "1"
	return append(a, ra...), nil
}

// ended reads finish.lua's answer for one end.
func (s *Store) ended(ctx context.Context, run *sundial.Run, res []any) error {
	if len(res) == 0 {
		return corrupt("finish run %s: unexpected reply", run.ID)
	}
	switch str(res[0]) {
	case "ok":
		return nil
	case "conflict":
		if len(res) != 3 {
			return corrupt("finish run %s: unexpected reply", run.ID)
		}
		state, _ := strconv.Atoi(str(res[1]))
		return conflict("run %s is %s on node %s", run.ID, sundial.RunState(state), str(res[2]))
	case "vanished":
		s.restore(ctx, run)
		return vanished(run.ID, run.Node)
	}
	return corrupt("finish run %s: unexpected reply %v", run.ID, res)
}

// restore writes back the record of a run whose record vanished, as it
// ended, unless its fire's key is held.
func (s *Store) restore(ctx context.Context, run *sundial.Run) {
	added, err := s.AddRuns(ctx, []*sundial.Run{run})
	s.log.Warn("run_vanished", "run", run.ID, "job", run.JobID, "node", run.Node,
		"restored", len(added) == 1, "err", err)
}

// fill sets every element of errs to err and returns errs.
func fill(errs []error, err error) []error {
	for i := range errs {
		errs[i] = err
	}
	return errs
}
