package sundial

import "sort"

// runQueue holds a pool's claimed runs waiting for their Due or a slot,
// earliest Due first. Claims hand runs over in Due order, so nearly every
// run joins the back of a queue kept sorted and, when due, leaves from its
// front: a burst of ten thousand runs due at one instant comes off as a
// slice of the queue (takeDue), without reading each run, where a heap
// would sift each one out past runs scattered over memory. A run due
// before the queue's last (claimed after later ones: a job added
// meanwhile) waits in a heap beside it. Among runs due at the same time,
// the queue's go first, in claim order. The caller holds w.mu.
type runQueue struct {
	sorted  []*activeRun // by due from head on; nil where a run was removed
	head    int          // sorted[:head] are gone
	base    int64        // the position of sorted[0] (activeRun.pos)
	live    int          // non-nil runs in sorted[head:]
	lastDue int64        // due of the last run appended: the bound for the next
	early   timeHeap[*activeRun]
}

func newRunQueue() runQueue {
	return runQueue{early: timeHeap[*activeRun]{
		less:  func(a, b *activeRun) bool { return a.due < b.due },
		index: func(a *activeRun) *int32 { return &a.idx },
	}}
}

// Len returns how many runs the queue holds.
func (q *runQueue) Len() int { return q.live + q.early.Len() }

// add puts a run in the queue, at the back when it is due no earlier than
// the last run put there.
func (q *runQueue) add(a *activeRun) {
	if q.live > 0 && a.due < q.lastDue {
		q.early.add(a)
		return
	}
	if q.live == 0 { // nothing to keep: start over at the front of the array
		q.base += int64(len(q.sorted))
		clear(q.sorted)
		q.sorted, q.head = q.sorted[:0], 0
	} else if q.head >= 64 && q.head >= len(q.sorted)/2 {
		n := copy(q.sorted, q.sorted[q.head:])
		clear(q.sorted[n:])
		q.sorted = q.sorted[:n]
		q.base += int64(q.head)
		q.head = 0
	}
	a.pos = q.base + int64(len(q.sorted))
	q.sorted = append(q.sorted, a)
	q.live++
	q.lastDue = a.due
}

// at returns where a run is in sorted, or -1 if it is not there. A run
// taken by takeDue keeps a stale pos, which leads to nil or another run.
func (q *runQueue) at(a *activeRun) int {
	i := a.pos - q.base
	if i < int64(q.head) || i >= int64(len(q.sorted)) || q.sorted[i] != a {
		return -1
	}
	return int(i)
}

// front returns the first run of sorted, skipping removed ones, or nil.
func (q *runQueue) front() *activeRun {
	if q.live == 0 {
		return nil
	}
	for q.sorted[q.head] == nil {
		q.head++
	}
	return q.sorted[q.head]
}

// peek returns the run due first, or false when the queue is empty.
func (q *runQueue) peek() (*activeRun, bool) {
	a := q.front()
	if e, ok := q.early.peek(); ok && (a == nil || e.due < a.due) {
		return e, true
	}
	return a, a != nil
}

// pop removes and returns the run due first; the queue must not be empty.
func (q *runQueue) pop() *activeRun {
	a, _ := q.peek()
	q.remove(a)
	return a
}

// remove takes a run out if it is in the queue, and reports whether it
// was.
func (q *runQueue) remove(a *activeRun) bool {
	if a.idx >= 0 {
		q.early.remove(a)
		return true
	}
	i := q.at(a)
	if i < 0 {
		return false
	}
	q.sorted[i] = nil
	q.live--
	if i == q.head {
		q.head++
	}
	return true
}

// takeDue appends to runs up to limit runs due by now, and removes them:
// the heap's first, then sorted's, each in its order. From sorted it takes
// a slice, reading the due of a few runs to find where it ends.
func (q *runQueue) takeDue(now int64, limit int, runs []*activeRun) []*activeRun {
	for len(runs) < limit {
		e, ok := q.early.peek()
		if !ok || e.due > now {
			break
		}
		runs = append(runs, q.early.pop())
	}
	if a := q.front(); a == nil || a.due > now || len(runs) >= limit {
		return runs
	}
	// The due runs are a prefix of sorted[head:]. Search reads a run only
	// to compare it, the first non-nil one from its index on.
	rest := q.sorted[q.head:]
	span := min(len(rest), limit-len(runs)+q.holes())
	end := sort.Search(span, func(i int) bool {
		for i < len(rest) && rest[i] == nil {
			i++
		}
		return i == len(rest) || rest[i].due > now
	})
	taken := 0
	for _, a := range rest[:end] {
		if a != nil {
			if len(runs) == limit {
				break
			}
			runs = append(runs, a)
			q.live--
		}
		taken++
	}
	clear(rest[:taken]) // their pos goes stale: at no longer finds them
	q.head += taken
	return runs
}

// holes counts the removed runs in sorted[head:]: runs removed from the
// middle of the queue (cancelled while waiting) leave one each.
func (q *runQueue) holes() int { return len(q.sorted) - q.head - q.live }

// dueAt counts the runs at the front of sorted due at t, up to limit:
// whether a burst is due at t.
func (q *runQueue) dueAt(t int64, limit int) int {
	n := 0
	for i := q.head; i < len(q.sorted) && n < limit; i++ {
		if a := q.sorted[i]; a != nil {
			if a.due != t {
				break
			}
			n++
		}
	}
	return n
}
