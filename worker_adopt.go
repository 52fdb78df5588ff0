package sundial

import (
	"context"
	"slices"
	"time"
)

// A claim whose answer was lost (the connection dropped after the store
// committed) leaves runs that the store counts as running on this node
// but that the node never received. The store stamped each with the
// claim's time as Started, and no other claim of this node has that time,
// so the worker, which remembers the times of its failed claims, finds
// them on its next claim and takes them as if the answer had come: the
// fire runs once, with one record. releaseOrphans interrupts and requeues
// only what is neither held nor awaited this way, a heartbeat TTL after
// its claim.

// claimLost remembers the time of a claim that failed; the claim's
// goroutine calls it.
func (w *worker) claimLost(at time.Time) {
	w.mu.Lock()
	w.lost = append(w.lost, at)
	w.mu.Unlock()
}

// adoptLost holds the runs of the failed claims w.lost remembers, and
// forgets those claims once the store has answered for them.
func (w *worker) adoptLost(ctx context.Context) error {
	w.mu.Lock()
	lost := slices.Clone(w.lost)
	w.mu.Unlock()
	if len(lost) == 0 {
		return nil
	}
	var found []*Run
	err := eachRunning(ctx, w.s.store, RunFilter{Node: w.s.cfg.NodeID}, func(r *Run) {
		if slices.ContainsFunc(lost, r.Started.Equal) {
			found = append(found, r)
		}
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, r := range found {
		if w.active[r.ID] == nil {
			w.hold(newActive(r))
		}
	}
	w.lost = w.lost[len(lost):] // claims that failed since are looked for next time
	return nil
}

// orphan reports whether a run the store counts as running on this node
// is neither held nor awaited from a failed claim.
func (w *worker) orphan(r *Run) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.active[r.ID] == nil && !slices.ContainsFunc(w.lost, r.Started.Equal)
}

// eachRunning calls fn for every run the store counts as running that f
// also selects (its States, Before and Limit are eachRunning's), a page at
// a time. Pages are large: a worker alone holds up to claimWindow runs per
// pool slot, all running by the store's account, and each page is a
// query.
func eachRunning(ctx context.Context, st Store, f RunFilter, fn func(*Run)) error {
	f.States, f.Before, f.Limit = []RunState{RunRunning}, "", 5000
	for {
		runs, err := st.ListRuns(ctx, f)
		if err != nil {
			return err
		}
		for _, r := range runs {
			fn(r)
		}
		if len(runs) < f.Limit {
			return nil
		}
		f.Before = runs[len(runs)-1].ID
	}
}
