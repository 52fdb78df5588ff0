package sundial

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestRunQueueOrdersAndTakes runs random adds (mostly in Due order, as
// claims hand runs over, some earlier), removals, pops and takes against
// a model: pop returns a run due first, takeDue returns min(limit, due)
// runs all due, Len agrees, and a run taken or removed stays out (remove
// reports it not there).
func TestRunQueueOrdersAndTakes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for round := range 200 {
		q := newRunQueue()
		held := map[*activeRun]bool{}
		var gone []*activeRun
		clock := int64(0)
		add := func(due int64) {
			a := &activeRun{run: &Run{Due: base.Add(time.Duration(due))}, due: base.Add(time.Duration(due)).UnixNano(), idx: -1}
			q.add(a)
			held[a] = true
		}
		out := func(a *activeRun) {
			if !held[a] {
				t.Fatalf("round %d: got a run not held", round)
			}
			delete(held, a)
			gone = append(gone, a)
		}
		minDue := func() int64 {
			m := int64(-1)
			for a := range held {
				if m < 0 || a.due < m {
					m = a.due
				}
			}
			return m
		}
		for op := range 400 {
			switch r := rng.IntN(10); {
			case r < 5: // a claim: in order, now and then one earlier
				if rng.IntN(4) == 0 {
					add(clock - rng.Int64N(50))
				} else {
					clock += rng.Int64N(3) // runs due together, often
					add(clock)
				}
			case r < 6 && len(held) > 0: // a cancel
				for a := range held {
					q.remove(a)
					out(a)
					break
				}
			case r < 7 && len(held) > 0:
				want := minDue()
				a := q.pop()
				if a.due != want {
					t.Fatalf("round %d op %d: popped due %d, want the earliest, %d", round, op, a.due-base.UnixNano(), want-base.UnixNano())
				}
				out(a)
			case r < 9:
				now := base.UnixNano() + clock - rng.Int64N(20)
				limit := 1 + rng.IntN(8)
				due := 0
				for a := range held {
					if a.due <= now {
						due++
					}
				}
				runs := q.takeDue(now, limit, nil)
				if len(runs) != min(limit, due) {
					t.Fatalf("round %d op %d: took %d runs, want %d (limit %d, due %d)", round, op, len(runs), min(limit, due), limit, due)
				}
				for _, a := range runs {
					if a.due > now {
						t.Fatalf("round %d op %d: took a run not due", round, op)
					}
					out(a)
				}
			default:
				if len(gone) > 0 { // a stale position leads nowhere
					a := gone[rng.IntN(len(gone))]
					if q.remove(a) {
						t.Fatalf("round %d op %d: a run taken out was still in the queue", round, op)
					}
				}
			}
			if q.Len() != len(held) {
				t.Fatalf("round %d op %d: Len %d, holding %d", round, op, q.Len(), len(held))
			}
			for a := range held {
				if a.idx < 0 && q.at(a) < 0 {
					t.Fatalf("round %d op %d: a held run is not in the queue", round, op)
				}
			}
		}
		for len(held) > 0 { // drain in order
			want := minDue()
			if a := q.pop(); a.due != want {
				t.Fatalf("round %d: drained due %d, want %d", round, a.due, want)
			} else {
				out(a)
			}
		}
		if _, ok := q.peek(); ok {
			t.Fatalf("round %d: an empty queue peeks a run", round)
		}
	}
}

// TestRunQueueCountsABurst checks dueAt, which tells the worker to wake
// exactly for a burst: it counts the runs at the front due at one
// instant, skipping removed ones, up to its limit.
func TestRunQueueCountsABurst(t *testing.T) {
	q := newRunQueue()
	var runs []*activeRun
	for i := range 10 {
		due := int64(100)
		if i >= 6 {
			due = 200
		}
		a := &activeRun{run: &Run{Due: time.Unix(0, due)}, due: due, idx: -1}
		runs = append(runs, a)
		q.add(a)
	}
	q.remove(runs[2])
	for _, c := range []struct {
		at          int64
		limit, want int
	}{{100, 32, 5}, {100, 3, 3}, {200, 32, 0}, {50, 32, 0}} {
		if got := q.dueAt(c.at, c.limit); got != c.want {
			t.Errorf("dueAt(%d, %d) = %d, want %d", c.at, c.limit, got, c.want)
		}
	}
}
