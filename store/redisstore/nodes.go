package redisstore

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/sundialhq/sundial"
)

// Heartbeat records that node is alive until now + node.TTL (zero: 10s)
// and returns the runs it must cancel: those of node.Running that are not
// running on it any more, those whose cancellation a newer fire
// requested, and those whose record vanished (logged as run_vanished: see
// ErrRunVanished). It fails with a *sundial.FieldError for a node without
// an ID.
func (s *Store) Heartbeat(ctx context.Context, node sundial.NodeInfo, now time.Time) (sundial.Heartbeat, error) {
	if err := ctx.Err(); err != nil {
		return sundial.Heartbeat{}, err
	}
	if node.ID == "" {
		return sundial.Heartbeat{}, invalid("node.id", "missing")
	}
	ttl := node.TTL
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	args := []any{node.ID, strconv.Itoa(int(node.Role)), timeText(node.Started), timeText(now), micros(now.Add(ttl))}
	for _, id := range node.Running {
		args = append(args, id)
	}
	v, err := s.run(ctx, beatScript, "heartbeat "+node.ID, args...)
	if err != nil {
		return sundial.Heartbeat{}, err
	}
	res := list(v)
	if len(res) != 3 {
		return sundial.Heartbeat{}, corrupt("heartbeat: unexpected reply")
	}
	var hb sundial.Heartbeat
	if hb.PeerExpiry, err = fromMicros(str(res[2])); err != nil {
		return sundial.Heartbeat{}, err
	}
	for _, id := range list(res[0]) {
		hb.Cancel = append(hb.Cancel, str(id))
	}
	for _, id := range list(res[1]) {
		s.log.Warn("run_vanished", "run", str(id), "node", node.ID,
			"hint", "the node runs it but Redis has no record of it: writes were lost")
	}
	return hb, nil
}

// maxRecoverTries bounds how often RecoverRuns looks again at a node
// whose runs changed between its read and its write.
const maxRecoverTries = 8

// RecoverRuns marks the running runs of nodes whose heartbeat expired as
// interrupted ("node lost"), inserts their retries per their job's retry
// policy (sundial.PlanRetry), and reports them with the lost nodes, each
// once: a lost node is forgotten, and a node that heartbeats again is
// alive again. A node counts as lost only when its heartbeat expired by
// both now and Redis's clock, so a node whose clock runs fast finds no
// other node lost early.
//
// It reads the lost nodes' runs, plans their retries, then writes in one
// script that checks that each node is still lost and runs exactly the
// runs read (else it reads again).
func (s *Store) RecoverRuns(ctx context.Context, now time.Time) (sundial.Recovery, error) {
	var rec sundial.Recovery
	for range maxRecoverTries {
		lost, err := s.lostNodes(ctx, now)
		if err != nil || len(lost) == 0 {
			return rec, err
		}
		again, err := s.recover(ctx, lost, now, &rec)
		if err != nil || !again {
			slices.Sort(rec.LostNodes)
			return rec, err
		}
	}
	slices.Sort(rec.LostNodes)
	return rec, nil
}

// lostNode is a node whose heartbeat expired, with its running runs and
// the retries planned for them.
type lostNode struct {
	id      string
	runs    []*sundial.Run
	retries []*sundial.Run // nil where the job allows no retry
}

// lostNodes reads the nodes whose heartbeat expired, and plans the
// retries of their runs, reading their jobs in one round trip.
func (s *Store) lostNodes(ctx context.Context, now time.Time) ([]lostNode, error) {
	v, err := s.run(ctx, lostScript, "recover runs", micros(now))
	if err != nil {
		return nil, err
	}
	var out []lostNode
	var ids []string
	index := map[string]int{} // job ID → its place in ids
	for _, x := range list(v) {
		f := list(x)
		if len(f) != 2 {
			return nil, corrupt("recover runs: unexpected reply")
		}
		n := lostNode{id: str(f[0])}
		for _, y := range list(f[1]) {
			pair := list(y)
			if len(pair) != 2 {
				return nil, corrupt("recover runs: unexpected reply")
			}
			r, err := decodeRun(pair[1])
			if err != nil {
				return nil, err
			}
			if _, ok := index[r.JobID]; !ok {
				index[r.JobID] = len(ids)
				ids = append(ids, r.JobID)
			}
			ended := r.Clone()
			ended.State, ended.Reason, ended.Finished = sundial.RunInterrupted, "node lost", now
			n.runs = append(n.runs, ended)
		}
		out = append(out, n)
	}
	if len(ids) == 0 {
		return out, nil
	}
	jobs, err := s.getJobs(ctx, "recover runs", ids) // nil where removed
	if err != nil {
		return nil, err
	}
	for i := range out {
		for _, r := range out[i].runs {
			out[i].retries = append(out[i].retries, sundial.PlanRetry(jobs[index[r.JobID]], r, now))
		}
	}
	return out, nil
}

// recover writes the lost nodes' ends and retries, adds what it did to
// rec, and reports whether a node changed meanwhile (look again).
func (s *Store) recover(ctx context.Context, lost []lostNode, now time.Time, rec *sundial.Recovery) (bool, error) {
	args := []any{micros(now), timeText(now)}
	index := map[string]*sundial.Run{}
	for _, n := range lost {
		args = append(args, n.id, strconv.Itoa(len(n.runs)))
		for i, r := range n.runs {
			args = append(args, r.ID)
			if n.retries[i] == nil {
				args = append(args, "0")
				continue
			}
			retry, a, err := newRun(n.retries[i], now)
			if err != nil {
				return false, err
			}
			index[retry.ID] = retry
			args = append(append(args, "1"), a...)
		}
	}
	v, err := s.run(ctx, recoverScript, "recover runs", args...)
	if err != nil {
		return false, err
	}
	res := list(v)
	if len(res) != len(lost)+1 {
		return false, corrupt("recover runs: unexpected reply")
	}
	again := false
	for i, n := range lost {
		r := list(res[i])
		if len(r) < 2 {
			return false, corrupt("recover runs: unexpected reply")
		}
		switch str(r[1]) {
		case "lost":
			rec.LostNodes = append(rec.LostNodes, n.id)
			rec.Interrupted = append(rec.Interrupted, n.runs...)
			rec.Retries = append(rec.Retries, pick(index, r[2:])...)
		case "changed":
			again = true
		}
	}
	s.deliver(str(res[len(lost)]))
	return again, nil
}
