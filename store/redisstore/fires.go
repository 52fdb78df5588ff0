package redisstore

import (
	"context"
	"strconv"
	"time"

	"github.com/sundialhq/sundial"
)

// NextFireTime returns the earliest next fire among unpaused, unclaimed
// jobs, or the earliest claim expiry if that comes first (a claim that
// expires makes its job due again); the zero Time when there is neither.
func (s *Store) NextFireTime(ctx context.Context) (time.Time, error) {
	v, err := s.run(ctx, nextFireScript, "next fire time")
	if err != nil {
		return time.Time{}, err
	}
	res := list(v)
	if len(res) != 2 {
		return time.Time{}, corrupt("next fire time: unexpected reply %v", v)
	}
	fire, err1 := parseTime(str(res[0]))
	lease, err2 := fromMicros(str(res[1]))
	if err := firstErr(err1, err2); err != nil {
		return time.Time{}, corrupt("next fire time: %v", err)
	}
	if fire.IsZero() || !lease.IsZero() && lease.Before(fire) {
		return lease, nil
	}
	return fire, nil
}

// ClaimDueJobs leases up to c.Limit (zero: 1,000) due jobs to c.Node
// until c.Now + c.Lease, the earliest next fire first, each with its
// running runs and its count of pending ones. The jobs of one call share
// a claim token that no other claim had. Claims that expired are released
// first, so their jobs are due again; a claim counts as expired only by
// both c.Now and Redis's clock, so a node whose clock runs fast takes no
// job early.
func (s *Store) ClaimDueJobs(ctx context.Context, c sundial.JobClaim) ([]sundial.DueJob, error) {
	if c.Limit <= 0 {
		c.Limit = 1000
	}
	v, err := s.run(ctx, claimJobScript, "claim due jobs", c.Node, micros(c.Now), micros(c.Horizon),
		micros(c.Now.Add(c.Lease)), strconv.Itoa(c.Limit))
	if err != nil {
		return nil, err
	}
	res := list(v)
	if len(res) < 2 {
		return nil, nil
	}
	token, _ := strconv.ParseInt(str(res[0]), 10, 64)
	out := make([]sundial.DueJob, 0, len(res)-1)
	for _, x := range res[1:] {
		d, err := decodeDue(x, token, c.Node)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// decodeDue reads one claimed job of claimjobs.lua, claimed by node.
func decodeDue(v any, token int64, node string) (sundial.DueJob, error) {
	f := list(v)
	if len(f) != 7 {
		return sundial.DueJob{}, corrupt("claim due jobs: unexpected reply %v", v)
	}
	j, err := decodeJob(str(f[0]), str(f[1]))
	if err != nil {
		return sundial.DueJob{}, err
	}
	first, err1 := fromMicros(str(f[3]))
	lapsed, err2 := fromMicros(str(f[6]))
	if err := firstErr(err1, err2); err != nil {
		return sundial.DueJob{}, err
	}
	running, err := decodeRuns(f[4])
	if err != nil {
		return sundial.DueJob{}, err
	}
	pending, _ := f[2].(int64)
	d := sundial.DueJob{Job: j, Pending: int(pending), PendingDue: first, Lapsed: lapsed, Token: token}
	beats := list(f[5])
	if len(beats) != len(running) {
		return sundial.DueJob{}, corrupt("claim due jobs: %d heartbeats for %d running runs", len(beats), len(running))
	}
	for i, r := range running {
		b := list(beats[i]) // the node's last heartbeat: {seen, started}, '' without one
		if len(b) != 2 {
			return sundial.DueJob{}, corrupt("claim due jobs: unexpected heartbeat %v", beats[i])
		}
		seen, err1 := parseTime(str(b[0]))
		started, err2 := parseTime(str(b[1]))
		if err := firstErr(err1, err2); err != nil {
			return sundial.DueJob{}, corrupt("claim due jobs: node heartbeat: %v", err)
		}
		d.AddRunning(r, seen, started, node)
	}
	return d, nil
}

// CommitFires applies each commit: a commit whose token still holds its
// job's claim inserts its runs (those whose fire's key exists are
// dropped), requests the cancellations, sets the next fire and releases
// the claim; any other is reported Lost and changes nothing. The batch is
// one script, each commit atomic; the notices follow as one message.
func (s *Store) CommitFires(ctx context.Context, commits []sundial.FireCommit, now time.Time) ([]sundial.CommitResult, error) {
	out := make([]sundial.CommitResult, len(commits))
	if err := ctx.Err(); err != nil || len(commits) == 0 {
		return out, err
	}
	var args []any
	index := map[string]*sundial.Run{}
	for _, c := range commits {
		next := ""
		if !c.NextFire.IsZero() {
			next = micros(c.NextFire)
		}
		args = append(args, c.JobID, strconv.FormatInt(c.Token, 10), timeText(c.NextFire), next,
			strconv.Itoa(len(c.Runs)), strconv.Itoa(len(c.Cancel)))
		for _, r := range c.Runs {
			r, a, err := newRun(r, now)
			if err != nil {
				return nil, err
			}
			index[r.ID] = r
			args = append(args, a...)
		}
		for _, id := range c.Cancel {
			args = append(args, id)
		}
	}
	v, err := s.run(ctx, commitScript, "commit fires", args...)
	if err != nil {
		return nil, err
	}
	res := list(v)
	if len(res) != len(commits)+1 {
		return nil, corrupt("commit fires: unexpected reply")
	}
	for i, c := range commits {
		out[i] = sundial.CommitResult{JobID: c.JobID, Lost: true}
		if r := list(res[i]); len(r) > 0 && r[0] == int64(1) {
			out[i].Lost = false
			out[i].Inserted = pick(index, r[1:])
		}
	}
	s.deliver(str(res[len(commits)]))
	return out, nil
}

// newRun checks a run to insert and returns a copy, with Created
// defaulting to now, and its arguments for insert.
func newRun(r *sundial.Run, now time.Time) (*sundial.Run, []any, error) {
	if err := r.CheckNew(); err != nil {
		return nil, nil, err
	}
	r = r.Clone()
	if r.Created.IsZero() {
		r.Created = now
	}
	a, err := runArgs(r)
	return r, a, err
}

// pick returns the runs of index named by ids, in order.
func pick(index map[string]*sundial.Run, ids []any) []*sundial.Run {
	out := make([]*sundial.Run, 0, len(ids))
	for _, id := range ids {
		if r := index[str(id)]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

// AddRuns inserts runs that no trigger produced; runs whose ID or fire's
// key exists are dropped. It returns the runs inserted, or a
// *sundial.FieldError (inserting nothing) when one of runs is invalid.
func (s *Store) AddRuns(ctx context.Context, runs []*sundial.Run) ([]*sundial.Run, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var args []any
	index := map[string]*sundial.Run{}
	for _, r := range runs {
		r, a, err := newRun(r, time.Time{})
		if err != nil {
			return nil, err
		}
		index[r.ID] = r
		args = append(args, a...)
	}
	if len(runs) == 0 {
		return nil, nil
	}
	v, err := s.run(ctx, addRunsScript, "add runs", args...)
	if err != nil {
		return nil, err
	}
	res := list(v)
	if len(res) == 0 {
		return nil, corrupt("add runs: unexpected reply")
	}
	s.deliver(str(res[len(res)-1]))
	return pick(index, res[:len(res)-1]), nil
}
