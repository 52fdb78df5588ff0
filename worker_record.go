package sundial

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"time"
)

// recorder settles ended runs in two stages, each on a goroutine of its
// own, in the order they ended: the first frees their pool slots (handing
// each to the next due run), the second writes their ends to the store in
// batches. Tasks hand their runs over and return at once, so a burst of
// thousands of runs due at the same instant starts as fast as goroutines
// can, and a slow store write never keeps a slot busy: the pools go on
// starting due runs while the ends of earlier ones wait to be written.
type recorder struct {
	ended stage         // runs whose task ended (or never started)
	freed stage         // runs whose slots are free, ends not yet written
	done  chan struct{} // nil until started
	clock Clock         // times the retries of store writes

	// backlog counts the runs waiting to start (worker.startBacklog), for
	// recording to yield to them.
	backlog func() int
}

// stage is a queue of runs between two goroutines: put wakes the taker
// when the queue was empty, and close says no more will come. It takes
// no lock: put pushes onto a chain of runs, linked through
// activeRun.before, with one compare-and-swap, and take swaps the whole
// chain out; in a burst, the tasks ending on every core put at once.
type stage struct {
	last   atomic.Pointer[activeRun] // the run put last, or nil
	closed atomic.Bool
	wake   chan struct{}
}

func (q *stage) put(runs ...*activeRun) {
	if len(runs) == 0 {
		return
	}
	for i := 1; i < len(runs); i++ {
		runs[i].before = runs[i-1]
	}
	first, last := runs[0], runs[len(runs)-1]
	for {
		old := q.last.Load()
		first.before = old
		if q.last.CompareAndSwap(old, last) {
			if old == nil { // else the taker is awake or already woken
				wake(q.wake)
			}
			return
		}
	}
}

// pending reports whether runs are queued and more may come.
func (q *stage) pending() bool { return q.last.Load() != nil && !q.closed.Load() }

func (q *stage) close() {
	q.closed.Store(true)
	wake(q.wake)
}

// take returns what is queued, in the order it was put, in buf's storage
// (buf's runs are taken to be handled), and whether the stage was closed
// before: then nothing more comes.
func (q *stage) take(buf []*activeRun) ([]*activeRun, bool) {
	clear(buf)
	closed := q.closed.Load() // before the swap: every put before close is in it
	runs := buf[:0]
	for a := q.last.Swap(nil); a != nil; {
		runs = append(runs, a)
		a, a.before = a.before, nil
	}
	slices.Reverse(runs)
	return runs, closed
}

// start runs the recorder until close. free frees a batch's slots; settle
// writes each batch (and is called with none when a retry falls due, or
// to flush every retry at once on close) and returns how soon it wants to
// be called again to retry a store write, zero for no retry; backlog
// counts the runs waiting to start (yield).
func (rc *recorder) start(clock Clock, free func(batch []*activeRun), settle func(batch []*activeRun, flush bool) time.Duration, backlog func() int) {
	rc.clock = clock
	rc.backlog = backlog
	rc.ended.wake = make(chan struct{}, 1)
	rc.freed.wake = make(chan struct{}, 1)
	rc.done = make(chan struct{})
	go rc.freeLoop(free)
	go rc.recordLoop(settle)
}

// yield puts off writing queued ends while runs wait to start and start:
// a burst of runs due at one instant goes through the pools first, and
// its ends are written after it, in one batch. It waits at most
// maxRecordDelay, and no longer once a look finds no run started since
// the last (the pools are busy with long tasks, not turning over).
func (rc *recorder) yield() {
	if !rc.freed.pending() {
		return
	}
	last := rc.backlog()
	until := time.Now().Add(maxRecordDelay)
	for last > 0 && time.Now().Before(until) {
		time.Sleep(recordPoll)
		n := rc.backlog()
		if n >= last {
			return
		}
		last = n
	}
}

// A burst of ten thousand runs starts in a few milliseconds; recording
// waits for it in steps of recordPoll, at most maxRecordDelay.
const (
	maxRecordDelay = 25 * time.Millisecond
	recordPoll     = time.Millisecond
)

func (rc *recorder) freeLoop(free func(batch []*activeRun)) {
	var batch []*activeRun
	var closed bool
	for {
		batch, closed = rc.ended.take(batch)
		switch {
		case len(batch) > 0:
			free(batch)
			rc.freed.put(batch...)
		case closed: // nothing more will end
			rc.freed.close()
			return
		default:
			<-rc.ended.wake
		}
	}
}

func (rc *recorder) recordLoop(settle func(batch []*activeRun, flush bool) time.Duration) {
	defer close(rc.done)
	var batch []*activeRun
	var drained bool
	for {
		rc.yield()
		batch, drained = rc.freed.take(batch)
		retryIn := settle(batch, drained)
		switch {
		case len(batch) > 0:
		case retryIn > 0 && drained:
			time.Sleep(50 * time.Millisecond) // flushing on shutdown, in real time: tries are bounded
		case retryIn > 0:
			t := rc.clock.NewTimer(retryIn)
			select {
			case <-rc.freed.wake:
			case <-t.C():
			}
			t.Stop()
		case drained:
			return
		default:
			<-rc.freed.wake
		}
	}
}

// add queues a run whose task ended (or that never started).
func (rc *recorder) add(a *activeRun) { rc.ended.put(a) }

// close records what is queued, then stops the recorder.
func (rc *recorder) close() {
	if rc.done == nil {
		return
	}
	rc.ended.close()
	<-rc.done
}

// unrecorded is an ended run whose store write failed, waiting to be
// tried again.
type unrecorded struct {
	run, retry *Run
	attempts   int
	at         time.Time // the next try, on the scheduler's clock
}

// maxRecordAttempts bounds the tries to write one run's end.
const maxRecordAttempts = 8

// plan decides the retry of an ended run. It runs on the recorder's
// goroutine.
func (w *worker) plan(r *Run) unrecorded {
	var retry *Run
	switch {
	case r.Started.IsZero():
		retry = requeue(r, r.Finished) // never started: nothing ran, so it runs again
	case r.State != RunSucceeded:
		job, _ := w.s.store.GetJob(context.Background(), r.JobID)
		retry = PlanRetry(job, r, r.Finished)
	}
	return unrecorded{run: r, retry: retry}
}

// recordAll writes a batch of run ends: in one step when the store can
// (RunFinisher: one transaction, one disk flush), else one by one.
func (w *worker) recordAll(us []unrecorded) {
	f, ok := w.s.store.(RunFinisher)
	if !ok || len(us) < 2 {
		for _, u := range us {
			w.record(u)
		}
		return
	}
	ends := make([]RunEnd, len(us))
	for i, u := range us {
		ends[i] = RunEnd{Run: u.run, Retry: u.retry}
	}
	w.recorded(us, f.FinishRuns(context.Background(), ends))
}

// record writes a run's end, then reports it.
func (w *worker) record(u unrecorded) {
	us, errs := [1]unrecorded{u}, [1]error{w.s.store.FinishRun(context.Background(), u.run, u.retry)}
	w.recorded(us[:], errs[:])
}

// recorded reports the runs whose ends were written (errs[i] is us[i]'s
// answer), and handles the store's errors: a write that may pass goes on
// w.later, with backoff, so one failing write never holds up the runs
// that end after it. The node forgets the batch's settled runs a slice at
// a time under w.mu (holdBatch), not one hold per run, and not the whole
// of a large batch at once: starts take w.mu too.
func (w *worker) recorded(us []unrecorded, errs []error) {
	for i, u := range us {
		if errs[i] != nil && u.attempts > 0 && errors.Is(errs[i], ErrConflict) && w.wroteEarlier(u.run) {
			errs[i] = nil // an earlier try reached the store; its answer was lost
		}
	}
	for from := 0; from < len(us); from += holdBatch {
		w.mu.Lock()
		for i := from; i < min(from+holdBatch, len(us)); i++ {
			if err := errs[i]; err == nil || givenUp(us[i], err) {
				w.forget(us[i].run, err == nil)
			}
		}
		w.mu.Unlock()
	}
	for i, u := range us {
		r, err := u.run, errs[i]
		switch {
		case err == nil:
			w.report(r, u.retry)
			if u.retry != nil {
				w.created(u.retry)
			}
			if w.s.mem != nil { // nothing refers to r now: the task has its own copy, events theirs
				w.spent = append(w.spent, r)
			}
		case givenUp(u, err):
			w.s.log.Error("finish_run_failed", "run", r.ID, "job", r.JobID, "attempts", u.attempts+1, "err", err)
		default:
			u.attempts++
			u.at = w.s.clock.Now().Add(time.Duration(50<<u.attempts) * time.Millisecond)
			w.later = append(w.later, u)
		}
	}
}

// givenUp reports whether a failed write of a run's end is not tried
// again: it was tried enough, or the store's answer will not change.
func givenUp(u unrecorded, err error) bool {
	return u.attempts+1 >= maxRecordAttempts || errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid)
}

// forget drops a run from the node's active set once its end is written
// (or given up on): until then the node still reports it as its own, so
// the store's view and the heartbeat's agree. The caller holds w.mu.
func (w *worker) forget(r *Run, recorded bool) {
	delete(w.active, r.ID)
	if recorded && r.Reason == ReasonShutdown && !r.Started.IsZero() {
		w.cut = append(w.cut, r.Clone())
	}
}

// wroteEarlier reports whether the store holds r's end as r says.
func (w *worker) wroteEarlier(r *Run) bool {
	got, err := w.s.store.GetRun(context.Background(), r.ID)
	return err == nil && got.State == r.State && got.Node == r.Node && got.Finished.Equal(r.Finished)
}

// recordLater retries the writes that are due (all of them when flush)
// and returns how long until the next one, zero if none is left.
func (w *worker) recordLater(flush bool) time.Duration {
	if len(w.later) == 0 {
		return 0
	}
	now := w.s.clock.Now()
	waiting := w.later
	w.later = nil
	for _, u := range waiting {
		if u.at.After(now) && !flush {
			w.later = append(w.later, u)
		} else {
			w.record(u)
		}
	}
	var next time.Duration
	for _, u := range w.later {
		if d := max(u.at.Sub(now), time.Millisecond); next == 0 || d < next {
			next = d
		}
	}
	return next
}
