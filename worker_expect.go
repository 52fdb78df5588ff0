package sundial

import (
	"container/heap"
	"time"
)

// On a store shared by several nodes (a StoreClock) a worker claims only
// the runs due within Config.ClaimAhead (default sharedClaimAhead, or the
// Lookahead if shorter), not a whole Lookahead of them. A run claimed is running as far as the
// other nodes know: it holds one of its job's MaxInstances slots until
// it ends, or until the claiming node's heartbeat expires if that node
// dies first. A node that claimed a second of the cluster's runs and was
// killed took a second of fires with it; claimed 50 ms ahead, it takes
// the runs it was about to start. The worker then has to come back for
// the rest as they fall due, so it keeps the due times of the pending
// runs it knows of (expected): those its own scheduler created, and a
// look every quarter Lookahead after another node says it created some.
const sharedClaimAhead = 50 * time.Millisecond

// dueSet is a min-heap of due times in steps of grain, each once. The
// worker's grain is half its reach (w.ahead): the runs due within one
// grain are claimed together, between half a reach and a reach before
// they are due, so claims come at most every grain however many runs
// fall due.
type dueSet struct {
	grain time.Duration
	h     grainHeap
	has   map[int64]bool
}

type grainHeap []int64

func (h grainHeap) Len() int           { return len(h) }
func (h grainHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h grainHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *grainHeap) Push(x any)        { *h = append(*h, x.(int64)) }
func (h *grainHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// add keeps t (rounded up to its grain, so a claim whose horizon reaches
// the grain reaches t) and reports whether it is now the earliest.
func (d *dueSet) add(t time.Time) bool {
	g := (t.UnixNano() + int64(d.grain) - 1) / int64(d.grain)
	if d.has[g] {
		return false
	}
	if d.has == nil {
		d.has = map[int64]bool{}
	}
	d.has[g] = true
	heap.Push(&d.h, g)
	return d.h[0] == g
}

// first returns the earliest time kept, zero if none.
func (d *dueSet) first() time.Time {
	if len(d.h) == 0 {
		return time.Time{}
	}
	return time.Unix(0, d.h[0]*int64(d.grain))
}

// dropThrough forgets the times at or before t and returns them.
func (d *dueSet) dropThrough(t time.Time) []time.Time {
	var out []time.Time
	for len(d.h) > 0 && !d.first().After(t) {
		out = append(out, d.first())
		delete(d.has, heap.Pop(&d.h).(int64))
	}
	return out
}

// expect tells a worker on a shared store that runs fall due at these
// times, so it claims them Config.ClaimAhead before; a worker that claims a
// whole Lookahead at once ignores it.
func (w *worker) expect(dues ...time.Time) {
	if !w.shared {
		return
	}
	earlier := false
	w.expMu.Lock()
	for _, t := range dues {
		if w.expected.add(t) {
			earlier = true
		}
	}
	w.expMu.Unlock()
	if earlier {
		wake(w.rethink)
	}
}

// created hands the worker the runs this node created (fires committed,
// runs added, retries): on a shared store it expects the pending ones,
// to claim each ClaimAhead before its Due; alone on its store it claims
// at once.
func (w *worker) created(runs ...*Run) {
	var dues []time.Time
	for _, r := range runs {
		switch {
		case r.State != RunPending:
		case !w.shared: // alone, any pending run wakes it: no list of times
			w.made.Add(1)
			wake(w.s.wakeWorker)
			return
		default:
			dues = append(dues, r.Due)
		}
	}
	if len(dues) > 0 {
		w.expect(dues...)
	}
}

// nextClaim returns when the worker should claim for the earliest run it
// expects, or to look again after a notice; zero if neither.
func (w *worker) nextClaim() time.Time {
	w.expMu.Lock()
	defer w.expMu.Unlock()
	t := w.expected.first()
	if !t.IsZero() {
		t = t.Add(-w.ahead)
	}
	if look := w.lastClaim.Add(w.ahead); !w.lastClaim.IsZero() && !look.After(w.lookUntil) && (t.IsZero() || look.Before(t)) {
		t = look
	}
	return t
}

// claiming forgets, and returns, the expected runs a claim reaching
// horizon looks at; a claim that fails expects them again.
func (w *worker) claiming(now, horizon time.Time) []time.Time {
	w.expMu.Lock()
	defer w.expMu.Unlock()
	w.lastClaim = now
	return w.expected.dropThrough(horizon)
}

// noticed handles word that a node created runs (this one or another),
// or ended one: runs may fall due any time within a Lookahead, or have
// waited for the slot that freed. Their creator expects them, but the
// other nodes do not know their times, so for a Lookahead the worker
// claims every w.ahead: any node may take the runs due next, which
// spreads the work, and the runs of a creator that died before claiming
// them start on time. On a shared store this replaces claiming at once
// on every notice: at thousands of fires a second, notices come from
// every commit of every node, and each would cost every node a claim.
// A worker alone on its store claims at once instead.
func (w *worker) noticed(now time.Time) {
	if !w.shared {
		wake(w.s.wakeWorker)
		return
	}
	w.expMu.Lock()
	if until := now.Add(w.s.cfg.Lookahead); until.After(w.lookUntil) {
		w.lookUntil = until
	}
	w.expMu.Unlock()
	wake(w.rethink)
}
