package sundial

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"
)

// Causes of a task's context being cancelled.
var (
	errShutdown  = errors.New("sundial: the scheduler shut down")
	errCancelled = errors.New("sundial: the store asked this node to stop the run (cancelled by a newer fire, or recovered elsewhere)")
	errLostStore = errors.New("sundial: this node lost contact with the store")
	errTimeout   = errors.New("sundial: the run's timeout passed")
)

// worker executes runs in bounded pools: it claims pending runs while its
// pools have room, waits until each is due, runs the task and records the
// outcome.
type worker struct {
	s       *Scheduler
	mu      sync.Mutex
	busy    map[string]int                   // runs executing, per pool
	claimed map[string]int                   // runs claimed and not finished, per pool
	ready   map[string]*timeHeap[*activeRun] // per pool: claimed runs waiting for their Due or a slot
	active  map[string]*activeRun            // every claimed run, by ID
	cut     []*Run
	tasks   sync.WaitGroup
	base    context.Context // parent of every task's context
	stop    context.CancelCauseFunc
}

// claimWindow is how many runs per pool slot the worker may hold claimed
// ahead of their start: runs created within the lookahead are claimed at
// once, so the store does not count them as waiting.
const claimWindow = 64

type activeRun struct {
	run      *Run
	pool     string
	ctx      context.Context
	cancel   context.CancelCauseFunc
	idx      int32 // in ready, or -1
	launched bool  // executing (or about to)
}

func newWorker(s *Scheduler) *worker {
	base, stop := context.WithCancelCause(context.Background())
	w := &worker{s: s, busy: map[string]int{}, claimed: map[string]int{}, active: map[string]*activeRun{},
		ready: map[string]*timeHeap[*activeRun]{}, base: base, stop: stop}
	for pool := range s.cfg.Executors {
		w.ready[pool] = &timeHeap[*activeRun]{less: func(a, b *activeRun) bool { return a.run.Due.Before(b.run.Due) }, index: func(a *activeRun) *int32 { return &a.idx }}
	}
	return w
}

// loop claims runs and starts the due ones until ctx is done; running
// tasks go on. Claimed runs wait in a heap by Due, without a pool slot, so
// runs created ahead of their time cannot fill the pools.
func (w *worker) loop(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		n, err := w.claim(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(2*backoff, 50*time.Millisecond), 5*time.Second)
			w.s.log.Warn("claim_runs_failed", "err", err, "retry_in", backoff)
			w.s.sleep(ctx, backoff, nil)
			continue
		}
		backoff = 0
		next := w.launchDue()
		if n > 0 {
			continue
		}
		at := w.s.clock.Now().Add(w.s.cfg.PollInterval)
		if !next.IsZero() && next.Before(at) {
			at = next
		}
		w.s.sleepUntil(ctx, at, w.s.wakeWorker)
	}
}

// claim takes pending runs while the pools' claim windows have room.
func (w *worker) claim(ctx context.Context) (int, error) {
	free := w.free()
	if len(free) == 0 {
		return 0, nil
	}
	now := w.s.clock.Now()
	runs, err := w.s.store.ClaimRuns(ctx, RunClaim{Node: w.s.cfg.NodeID, Now: now, Horizon: now.Add(w.s.cfg.Lookahead), Limit: free})
	w.mu.Lock()
	for _, r := range runs {
		w.hold(r)
	}
	w.mu.Unlock()
	return len(runs), err
}

func (w *worker) free() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	free := map[string]int{}
	for name, size := range w.s.cfg.Executors {
		if n := size*claimWindow - w.claimed[name]; n > 0 {
			free[name] = n
		}
	}
	return free
}

// hold keeps a claimed run until it is due; the caller holds w.mu.
func (w *worker) hold(r *Run) {
	pool := r.Executor
	if pool == "" {
		pool = "default"
	}
	ctx, cancel := context.WithCancelCause(w.base)
	a := &activeRun{run: r, pool: pool, ctx: ctx, cancel: cancel, idx: -1}
	w.claimed[pool]++
	w.active[r.ID] = a
	w.ready[pool].add(a)
}

// launchDue starts the due runs whose pools have a free slot, and returns
// when the next held run falls due (zero if none, or if the due ones wait
// for a slot: a finishing run wakes the loop).
func (w *worker) launchDue() time.Time {
	now := w.s.clock.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	var next time.Time
	for pool := range w.ready {
		if due := w.launchReady(pool, now); !due.IsZero() && (next.IsZero() || due.Before(next)) {
			next = due
		}
	}
	return next
}

// launchReady starts a pool's due runs while it has free slots, and
// returns when its next held run falls due; the caller holds w.mu.
func (w *worker) launchReady(pool string, now time.Time) time.Time {
	h := w.ready[pool]
	for w.busy[pool] < w.s.cfg.Executors[pool] {
		a, ok := h.peek()
		if !ok {
			return time.Time{}
		}
		if a.run.Due.After(now) {
			return a.run.Due
		}
		h.pop()
		w.launch(a)
	}
	return time.Time{}
}

// launch starts a run's task; the caller holds w.mu.
func (w *worker) launch(a *activeRun) {
	w.busy[a.pool]++
	a.launched = true
	w.tasks.Add(1)
	go func() {
		defer w.tasks.Done()
		defer w.release(a)
		w.execute(a.ctx, a.run)
	}()
}

// release frees a finished run's slot and hands it straight to the pool's
// next due run, without a round of the worker loop.
func (w *worker) release(a *activeRun) {
	a.cancel(nil)
	now := w.s.clock.Now()
	w.mu.Lock()
	if a.launched {
		w.busy[a.pool]--
	}
	w.claimed[a.pool]--
	delete(w.active, a.run.ID)
	w.launchReady(a.pool, now)
	w.mu.Unlock()
	wake(w.s.wakeWorker)
}

// execute runs a due run's task and records the end.
func (w *worker) execute(ctx context.Context, r *Run) {
	s := w.s
	if ctx.Err() != nil { // cancelled while it waited
		w.finish(ctx, r, nil, "")
		return
	}
	r.Started = s.clock.Now()
	if s.events.wants(EventRunStarted) {
		s.emit(Event{Type: EventRunStarted, JobID: r.JobID, RunID: r.ID, Scheduled: r.Scheduled, Attempt: r.Attempt, Run: r.Clone()})
	}
	stopTimers := w.watch(r)
	stack, err := w.call(ctx, r)
	stopTimers()
	w.finish(ctx, r, err, stack)
}

// watch starts the run's timeout and slow-run timers on the scheduler's
// clock; the returned function stops them.
func (w *worker) watch(r *Run) func() {
	done := make(chan struct{})
	var wg sync.WaitGroup
	if r.Timeout > 0 {
		w.at(&wg, done, r.Started.Add(r.Timeout), func() { w.cancelRun(r.ID, errTimeout) })
	}
	if slow := w.slowAfter(r); slow > 0 {
		w.at(&wg, done, r.Started.Add(slow), func() {
			w.s.emit(Event{Type: EventRunSlow, JobID: r.JobID, RunID: r.ID, Scheduled: r.Scheduled, Attempt: r.Attempt,
				Duration: w.s.clock.Now().Sub(r.Started), Run: r.Clone()})
		})
	}
	return func() { close(done); wg.Wait() }
}

// at calls fn when the clock reads t, unless done closes first.
func (w *worker) at(wg *sync.WaitGroup, done chan struct{}, t time.Time, fn func()) {
	timer := timerAt(w.s.clock, t)
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer timer.Stop()
		select {
		case <-timer.C():
			fn()
		case <-done:
		}
	}()
}

// slowAfter is the run's slow-run threshold: its job's, else the
// scheduler's default; zero means none.
func (w *worker) slowAfter(r *Run) time.Duration {
	if r.SlowAfter != 0 {
		return max(r.SlowAfter, 0)
	}
	return w.s.cfg.SlowAfter
}

// call runs the task, turning a panic into an error and a stack trace.
func (w *worker) call(ctx context.Context, r *Run) (stack string, err error) {
	t, ok := w.s.taskNamed(r.Task)
	if !ok {
		w.s.emit(Event{Type: EventTaskMissing, JobID: r.JobID, RunID: r.ID, Subject: r.Task})
		w.s.log.Error("task_missing", "job", r.JobID, "task", r.Task)
		return "", fmt.Errorf("sundial: task %q is not registered on node %s", r.Task, w.s.cfg.NodeID)
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sundial: task %q panicked: %v", r.Task, p)
			stack = string(debug.Stack())
			if limit := w.s.cfg.StackLimit; len(stack) > limit {
				stack = stack[:limit] + "\n... (truncated)"
			}
		}
	}()
	return "", t.fn(context.WithValue(ctx, runKeyCtx{}, r.Clone()), r.Clone())
}

// finish records the outcome, schedules a retry when the job allows one,
// and reports it.
func (w *worker) finish(ctx context.Context, r *Run, err error, stack string) {
	s := w.s
	r.Finished = s.clock.Now()
	r.State, r.Reason, r.Error, r.Stack = outcome(ctx, !r.Started.IsZero(), err, stack)
	var retry *Run
	switch {
	case r.Started.IsZero():
		retry = requeue(r, r.Finished) // never started: nothing ran, so it runs again
	case r.State != RunSucceeded:
		job, _ := s.store.GetJob(context.Background(), r.JobID)
		retry = PlanRetry(job, r, r.Finished)
	}
	if err := w.record(r, retry); err != nil {
		s.log.Error("finish_run_failed", "run", r.ID, "job", r.JobID, "err", err)
		return
	}
	if r.Reason == ReasonShutdown && !r.Started.IsZero() {
		w.mu.Lock()
		w.cut = append(w.cut, r.Clone())
		w.mu.Unlock()
	}
	w.report(r, retry)
}

// outcome classifies how a run ended. A run that never started (the
// scheduler stopped first) is interrupted; a task that returned nil
// succeeded, even if its context was cancelled meanwhile.
func outcome(ctx context.Context, started bool, err error, stack string) (RunState, string, string, string) {
	cause := context.Cause(ctx)
	switch {
	case !started:
		return RunInterrupted, reasonOf(cause), cause.Error(), ""
	case err == nil:
		return RunSucceeded, "", "", ""
	case stack != "":
		return RunFailed, "", err.Error(), stack
	case errors.Is(cause, errTimeout):
		return RunFailed, "", "timed out: " + err.Error(), ""
	case cause != nil:
		return RunInterrupted, reasonOf(cause), err.Error(), ""
	}
	return RunFailed, "", err.Error(), ""
}

func reasonOf(cause error) string {
	switch {
	case errors.Is(cause, errShutdown):
		return ReasonShutdown
	case errors.Is(cause, errCancelled):
		return ReasonCancelled
	}
	return ReasonNodeLost
}

// record writes the outcome, retrying store errors for a while.
func (w *worker) record(r, retry *Run) error {
	var err error
	for attempt := range 8 {
		if err = w.s.store.FinishRun(context.Background(), r, retry); err == nil ||
			errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalid) {
			return err
		}
		time.Sleep(time.Duration(50<<attempt) * time.Millisecond) // store backoff, in real time
	}
	return err
}

func (w *worker) report(r, retry *Run) {
	typ := EventRunInterrupted
	switch r.State {
	case RunSucceeded:
		typ = EventJobExecuted
	case RunFailed:
		typ = EventJobError
	}
	if w.s.events.wants(typ) {
		w.s.emit(Event{Type: typ, JobID: r.JobID, RunID: r.ID, Scheduled: r.Scheduled, Attempt: r.Attempt,
			Duration: r.Duration(), Err: r.Error, Stack: r.Stack, Run: r.Clone()})
	}
	if retry != nil {
		w.s.emit(Event{Type: EventRunRetrying, JobID: retry.JobID, RunID: retry.ID, Scheduled: retry.Scheduled,
			Attempt: retry.Attempt, Run: retry.Clone()})
	}
}

// cancelRun cancels one run's context with a cause; a run still waiting
// to start is recorded as never started.
func (w *worker) cancelRun(id string, cause error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if a := w.active[id]; a != nil {
		w.cancelLocked(a, cause)
	}
}

// cancelAll cancels every claimed run.
func (w *worker) cancelAll(cause error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range w.active {
		w.cancelLocked(a, cause)
	}
}

func (w *worker) cancelLocked(a *activeRun, cause error) {
	a.cancel(cause)
	if !a.launched {
		w.ready[a.pool].remove(a)
		w.launch(a) // it sees its context done and records the interruption
	}
}

func (w *worker) runningIDs() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	ids := make([]string, 0, len(w.active))
	for id := range w.active {
		ids = append(ids, id)
	}
	return ids
}

// drain waits for running tasks until ctx is done, then cancels the rest
// and waits for them to record their end. It returns the runs cut short.
func (w *worker) drain(ctx context.Context) []*Run {
	w.mu.Lock()
	for _, h := range w.ready {
		for h.Len() > 0 {
			a := h.pop()
			a.cancel(errShutdown)
			w.launch(a) // records it as never started, to be run again
		}
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.tasks.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		w.stop(errShutdown)
		<-done
	}
	w.stop(errShutdown)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cut
}
