package sundial

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
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
	pools   map[string]*pool      // by name (Config.Executors, AddExecutor)
	active  map[string]*activeRun // every claimed run, by ID
	cut     []*Run
	tasks   sync.WaitGroup
	rec     recorder
	later   []unrecorded   // runs whose recording failed, for the recorder to retry
	starts  []*activeRun   // launchDue's buffer (the loop's goroutine only)
	room    map[string]int // free's answer, reused (one claim runs at a time)
	lost    []time.Time    // the times of failed claims whose runs may be in the store (worker_adopt.go)
	spent   []*Run         // runs recorded, for the memory store to reuse (the recorder's goroutine only)
	spawned atomic.Int64   // goroutines spawned to run a task that have not begun (startBacklog)

	// made counts the hand-overs of pending runs (created) to a worker
	// alone on its store, and claimedMade is made as it was when the last
	// claim that took every run it could see began. While they differ,
	// runs were made that the worker has not claimed, so it is not idle.
	made, claimedMade atomic.Uint64

	// systemClock is set on the system clock: a chain then reads the
	// monotonic clock alone (chain.now), and the loop may wake for a burst
	// exactly (exactClock).
	systemClock bool
	// spinLead is how long before a burst the loop stops sleeping and
	// spins (sleepUntil): the recent overshoots of sleepExactly, and a
	// quarter more. The loop's goroutine only.
	spinLead time.Duration
	// awaitBurst is how startBurst waits for a burst's instant:
	// sleepUntil, unless a test holds it.
	awaitBurst func(at time.Time)

	// On a shared store (worker_expect.go): claims reach only ahead past
	// now, and the worker comes back for the runs it expects.
	shared    bool
	ahead     time.Duration // how far past now a claim reaches
	expMu     sync.Mutex
	expected  dueSet
	lookUntil time.Time     // claim every ahead until then (a node created runs)
	lastClaim time.Time     // when the last claim began
	rethink   chan struct{} // when to claim next changed
}

// claimWindow is how many runs per pool slot the worker may hold claimed
// ahead of their start: runs created within the lookahead are claimed at
// once, so the store does not count them as waiting, and a burst of runs
// due together is in hand before its instant (a claim in the middle of
// the burst takes w.mu from the tasks passing on their slots). At 256, a
// pool of 64 holds up to 16,384 runs. Alone on its store, a pool of any
// size holds up to minClaimWindow runs not yet due (windowOf): a burst of
// short tasks goes through ten slots as fast as through sixty-four, and
// a hundred thousand one-off jobs due at one instant start in a fifth of
// the time when all are in hand. Each held run is about 900 bytes (the
// run, its record with the task's copy, its context): 110 MB at the
// bound, held only while that many runs are due within a Lookahead. On a store
// shared by several nodes (a StoreClock) the window is sharedClaimWindow:
// a node that claimed a whole lookahead of the cluster's runs would leave
// the others idle while it works through them, and, killed, would hold
// them all until its heartbeat expired.
const (
	claimWindow       = 256
	minClaimWindow    = 1 << 17
	sharedClaimWindow = 2
	maxClaim          = 1024 // runs per pool per claim: the store's lock is held briefly
)

// pool is an executor: a bound on the tasks running at once, and the
// claimed runs waiting for a slot. w.mu guards it. A removed pool stays,
// with size 0, for its running tasks to end in: it starts nothing more,
// and AddExecutor brings it back.
type pool struct {
	size    int      // 0 once removed
	busy    int      // runs executing
	claimed int      // runs claimed and not finished, less given
	ready   runQueue // claimed runs waiting for their Due or a slot

	// due holds runs taken off ready, due, while every slot was busy: a
	// burst due at one instant. A task that ends takes the next of them
	// for its slot with one atomic add (takeNext), where taking it off
	// ready needs w.mu, which the pool's other slots are taking too. Set
	// and closed under w.mu; taken from without it.
	due atomic.Pointer[dueBatch]
	// given counts the claims of runs that ended handing their slot on
	// through due, without w.mu; fold takes them off claimed.
	given atomic.Int64
}

// dueBatch is a pool's due runs, in the order ready gave them; next is
// the index of the next to take, past the end once all are taken.
type dueBatch struct {
	runs []*activeRun
	next atomic.Int64
}

// dueBatchSize bounds a pool's batch of due runs, and so the runs taken
// off ready at once under w.mu.
const dueBatchSize = 256

// take returns the batch's next run, or nil when all are taken (or b is
// nil). Each run is returned once, whoever asks.
func (b *dueBatch) take() *activeRun {
	if b == nil {
		return nil
	}
	if i := b.next.Add(1) - 1; i < int64(len(b.runs)) {
		b.prefetch(int(i))
		return b.runs[i]
	}
	return nil
}

// The runs a batch's take asks the processor to fetch ahead of the one it
// returns: the records prefetchFar ahead, and what those prefetchNear
// ahead point to (their run, context and job ID), read from records the
// take prefetchFar-prefetchNear before fetched.
const (
	prefetchFar  = 8
	prefetchNear = 4
)

// prefetch asks for what the runs after the i-th will need as they start:
// a burst's runs were made a Lookahead before it, and their records, runs
// and contexts lie far apart, out of the cache.
func (b *dueBatch) prefetch(i int) {
	if j := i + prefetchFar; j < len(b.runs) {
		p := unsafe.Pointer(b.runs[j])
		for off := uintptr(0); off < unsafe.Sizeof(activeRun{}); off += 64 {
			prefetch(unsafe.Add(p, off))
		}
	}
	if j := i + prefetchNear; j < len(b.runs) {
		a := b.runs[j]
		for off := uintptr(128); off < unsafe.Sizeof(Run{}); off += 64 { // State on: what execute and end write
			prefetch(unsafe.Add(unsafe.Pointer(a.run), off))
		}
		prefetch(unsafe.Pointer(a.jobID))
		prefetch((*[2]unsafe.Pointer)(unsafe.Pointer(&a.ctx))[1])
	}
}

// left returns how many runs the batch has not given; 0 for nil.
func (b *dueBatch) left() int {
	if b == nil {
		return 0
	}
	return max(len(b.runs)-int(b.next.Load()), 0)
}

// closeDue ends the pool's batch and returns the runs it had not given,
// which no one can take any more; the caller holds w.mu.
func (p *pool) closeDue() []*activeRun {
	b := p.due.Swap(nil)
	if b == nil {
		return nil
	}
	k := min(int(b.next.Swap(int64(len(b.runs)))), len(b.runs))
	return b.runs[k:]
}

// fold takes the claims given back through due off claimed; the caller
// holds w.mu.
func (p *pool) fold() { p.claimed -= int(p.given.Swap(0)) }

type activeRun struct {
	run    *Run
	pool   *pool // set by hold
	ctx    context.Context
	cancel context.CancelCauseFunc
	due    int64 // run.Due, in Unix ns: ready orders runs by it
	idx    int32 // in ready's heap of early runs, or -1
	pos    int64 // where it was put in ready's sorted queue (runQueue.at)
	passed bool  // its slot went straight to the next due run (takeNext)

	// The task's own copy of run, made as it is claimed, and the context
	// it runs in, which carries that copy: parts of the record, so that a
	// burst of starts allocates nothing. The record is never reused, so a
	// task may keep either.
	own  Run
	tctx taskContext

	// What execute needs of the run besides, found by hold while the run
	// is at hand: the task, as looked up in the registry tasks, and
	// whether the run has a timeout or a slow-run threshold (watch). In a
	// burst each would otherwise be read where it lies, apart from the
	// run, and out of the cache: the task's name is its job's string.
	tasks   *map[string]task
	task    task
	found   bool
	watched bool

	// jobID is the job ID's bytes, for a batch to prefetch (a task may
	// write its copy of the run while another slot reads the record).
	jobID *byte

	before *activeRun // the run put before it in a recorder's stage
}

// taskContext is the context a task runs in: its run's context, carrying
// the task's copy of the run for RunFromContext. Like the value context
// of context.WithValue, it asks its parent for every other key, so
// contexts derived from it are cancelled with it, without a goroutine.
type taskContext struct {
	context.Context
	run *Run
}

func (c *taskContext) Value(key any) any {
	if _, ok := key.(runKeyCtx); ok {
		return c.run
	}
	return c.Context.Value(key)
}

func newWorker(s *Scheduler) *worker {
	w := &worker{s: s, pools: map[string]*pool{}, active: map[string]*activeRun{},
		ahead: s.cfg.Lookahead, rethink: make(chan struct{}, 1), spinLead: initialSpinLead}
	_, w.systemClock = s.clock.(SystemClock)
	w.awaitBurst = w.sleepUntil
	if _, shared := s.store.(StoreClock); shared {
		w.shared, w.ahead = true, s.cfg.ClaimAhead
		w.expected.grain = max(w.ahead/2, time.Millisecond)
	}
	for pool, size := range s.cfg.Executors {
		w.addPool(pool, size)
	}
	return w
}

// addPool sizes a pool, made if new; the caller holds w.mu (or owns w).
func (w *worker) addPool(name string, size int) {
	w.poolNamed(name).size = size
}

// poolNamed returns the pool called name, made (removed, size 0) if there
// is none; the caller holds w.mu.
func (w *worker) poolNamed(name string) *pool {
	p := w.pools[name]
	if p == nil {
		p = &pool{ready: newRunQueue()}
		w.pools[name] = p
	}
	return p
}

// livePool returns the pool called name unless it was never added or was
// removed; the caller holds w.mu.
func (w *worker) livePool(name string) (*pool, bool) {
	p := w.pools[name]
	return p, p != nil && p.size > 0
}

// loop claims runs and starts the due ones until ctx is done; running
// tasks go on. Claimed runs wait in order of Due (runQueue), without a
// pool slot, so runs created ahead of their time cannot fill the pools.
// The claim itself runs beside the loop, one at a time, so a slow store
// call (a busy writer, a checkpoint, a reconnect) never delays the start
// of runs the worker already holds.
func (w *worker) loop(ctx context.Context) {
	type claimed struct {
		full bool // the claim took all it could: more may be waiting
		err  error
	}
	done := make(chan claimed, 1)
	var (
		inFlight bool          // a claim is running
		again    = true        // claim as soon as none is running
		pollAt   time.Time     // when to claim again without a wake-up
		backoff  time.Duration // after a failed claim: no claim before pollAt
		timer    Timer         // reused: with runs spread over the second, the loop wakes for each
	)
	for {
		next, burst := w.launchDue() // what is due starts before the store is asked for more
		if ctx.Err() != nil {
			break
		}
		claimAt := pollAt
		if e := w.nextClaim(); !e.IsZero() && e.Before(claimAt) && backoff == 0 {
			claimAt = e
		}
		polled := !w.s.clock.Now().Before(claimAt)
		if !inFlight && (polled || again && backoff == 0) {
			inFlight, again = true, false
			go func() {
				full, err := w.claim(ctx)
				done <- claimed{full, err}
			}()
		}
		at, exact := next, burst && w.exactClock()
		if !inFlight && (at.IsZero() || claimAt.Before(at)) {
			at, exact = claimAt, false
		}
		var tick <-chan time.Time
		if !at.IsZero() {
			wakeAt := at
			if exact {
				wakeAt = at.Add(-exactLead)
			}
			timer = rearm(w.s.clock, timer, wakeAt)
			tick = timer.C()
		}
		select {
		case <-tick:
			if d := time.Until(at); exact && d > 0 && d <= exactLead {
				w.startBurst(ctx, at)
			}
		case <-w.s.wakeWorker:
			again = true
		case <-w.rethink:
		case c := <-done:
			inFlight = false
			switch {
			case c.err != nil && ctx.Err() == nil:
				backoff = min(max(2*backoff, 50*time.Millisecond), 5*time.Second)
				w.s.log.Warn("claim_runs_failed", "err", c.err, "retry_in", backoff)
				pollAt = w.s.clock.Now().Add(backoff)
			case c.full:
				backoff, again = 0, true
			default:
				backoff = 0
				pollAt = w.s.clock.Now().Add(w.pollEvery())
			}
		case <-ctx.Done():
		}
		if timer != nil {
			timer.Stop()
		}
	}
	if inFlight { // its runs are held, for drain to give back
		<-done
	}
}

// pollEvery is how long the loop waits to claim again when nothing wakes
// it. A claim on a shared store reaches only w.ahead past now, so the
// runs it does not expect (pending when the node started, or created by
// a node that died before claiming them) wait at most a quarter
// Lookahead past their Due.
func (w *worker) pollEvery() time.Duration {
	if w.shared {
		return min(w.s.cfg.PollInterval, w.s.cfg.Lookahead/4)
	}
	return w.s.cfg.PollInterval
}

// claim takes pending runs while the pools' claim windows have room, and
// reports whether it took as many as it asked for (more may be waiting).
func (w *worker) claim(ctx context.Context) (bool, error) {
	if err := w.adoptLost(ctx); err != nil {
		return false, err
	}
	made := w.made.Load() // before the store is asked: its runs are in the store
	now := w.s.clock.Now()
	horizon := now.Add(w.ahead)
	looked := w.claiming(now, horizon)
	free, asked := w.free(now)
	if asked == 0 { // a slot freed wakes the loop to claim again
		return false, nil
	}
	runs, err := w.s.store.ClaimRuns(ctx, RunClaim{Node: w.s.cfg.NodeID, Now: now, Horizon: horizon, Limit: free})
	if err != nil {
		w.expect(looked...)
		w.claimLost(now)
	}
	held := make([]*activeRun, len(runs))
	for i, r := range runs {
		held[i] = newActive(r)
	}
	for len(held) > 0 { // a slice at a time: a task ending meanwhile can take w.mu
		n := min(len(held), holdBatch)
		w.mu.Lock()
		for _, a := range held[:n] {
			w.hold(a)
		}
		w.mu.Unlock()
		held = held[n:]
	}
	full := len(runs) >= asked
	if err == nil && !full {
		w.claimedMade.Store(made)
	}
	return full, err
}

// holdBatch bounds the claimed runs claim hands over per hold of w.mu.
const holdBatch = 256

// free returns the room in each pool's claim window as of now, at most
// maxClaim each, and its sum. The map is the worker's, valid until the
// next call: only claim calls it, one claim at a time.
func (w *worker) free(now time.Time) (map[string]int, int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.room == nil {
		w.room = map[string]int{}
	}
	clear(w.room)
	sum := 0
	for name, p := range w.pools {
		p.fold()
		if n := min(w.windowOf(p, now)-p.claimed, maxClaim); n > 0 {
			w.room[name] = n
			sum += n
		}
	}
	return w.room, sum
}

// newActive makes a claimed run's record, with its context and the
// task's copy of the run, which execute only stamps with the start: a
// burst of runs due at one instant reads and writes less of each as it
// starts them.
func newActive(r *Run) *activeRun {
	// Not derived from a shared parent: thousands of runs registering with
	// one parent context would contend on its lock. cancelAll reaches them.
	ctx, cancel := context.WithCancelCause(context.Background())
	r.Started = time.Time{} // the store's claim time; set again when the task begins
	a := &activeRun{run: r, ctx: ctx, cancel: cancel, due: r.Due.UnixNano(), idx: -1, jobID: unsafe.StringData(r.JobID)}
	copyRun(&a.own, r) // the worker's r records the outcome
	a.tctx = taskContext{Context: ctx, run: &a.own}
	return a
}

// hold keeps a claimed run until it is due; the caller holds w.mu.
func (w *worker) hold(a *activeRun) {
	a.tasks = w.s.tasks.Load()
	a.task, a.found = (*a.tasks)[a.own.Task]
	a.watched = a.own.Timeout > 0 || w.slowAfter(&a.own) > 0
	a.pool = w.poolNamed(a.run.executor())
	a.pool.claimed++
	w.active[a.run.ID] = a
	if a.pool.size == 0 { // removed meanwhile: give it back
		a.cancel(errCancelled)
		w.launch(a)
		return
	}
	a.pool.ready.add(a)
}

// launchDue starts the due runs whose pools have a free slot, and returns
// when the next held run falls due (zero if none, or if the due ones wait
// for a slot: a finishing run wakes the loop), and whether a burst of runs
// falls due then.
func (w *worker) launchDue() (time.Time, bool) {
	now := w.s.clock.Now()
	start := w.startBuf()
	defer clear(start[:cap(start)]) // hold no ended runs
	for {
		var next time.Time
		start = start[:0]
		w.mu.Lock()
		for _, p := range w.pools {
			if due := w.launchReady(p, now, &start); !due.IsZero() && (next.IsZero() || due.Before(next)) {
				next = due
			}
		}
		burst := false
		if len(start) < launchBatch && !next.IsZero() {
			for _, p := range w.pools {
				burst = burst || p.ready.dueAt(next.UnixNano(), burstRuns) == burstRuns
			}
		}
		w.countTasks(len(start))
		w.mu.Unlock()
		w.spawn(start)
		if len(start) < launchBatch {
			return next, burst
		}
	}
}

// startBuf returns the loop's buffer of runs to start, empty, with room
// for launchBatch.
func (w *worker) startBuf() []*activeRun {
	if w.starts == nil {
		w.starts = make([]*activeRun, 0, launchBatch)
	}
	return w.starts[:0]
}

// burstRuns is how many runs due at one instant make a burst, which the
// loop wakes for exactly (startBurst): a burst's last run starts as late
// as its first, plus the time to start all before it.
const burstRuns = 32

// exactLead is how long before a burst the loop wakes on the runtime's
// timer, which may wake it up to a millisecond late, to ready the burst
// and sleep the rest exactly (startBurst).
const exactLead = 2 * time.Millisecond

// exactClock reports whether the loop can wake for a burst on time, not
// up to a millisecond late: on the system clock, where sleepExactly works.
func (w *worker) exactClock() bool { return w.systemClock && canSleepExactly }

// startBurst starts a burst of runs due at at, woken exactLead before
// it. It gives the burst's first runs their pool slots and spawns their
// goroutines at once, each waiting on a gate; waits for at (awaitBurst);
// batches the rest of the burst for the slots to pass on (batchIfFull);
// and opens the gate. The first task then begins as soon after at as a
// goroutine can be woken, where spawning them at at took 50–250µs here.
// Until at the runs stay out of the pools' batches, from which a task
// ending early would take one before it is due (takeNext). On shutdown
// meanwhile the runs given slots are cancelled, and record that they
// never started, as drain does with the runs it gives back.
func (w *worker) startBurst(ctx context.Context, at time.Time) {
	start := w.startBuf()
	defer clear(start[:cap(start)]) // hold no ended runs
	w.mu.Lock()
	for _, p := range w.pools {
		w.fillSlots(p, at, &start)
	}
	w.countTasks(len(start))
	w.mu.Unlock()
	gate := make(chan struct{})
	w.spawnAfter(gate, start)
	w.awaitBurst(at)
	if ctx.Err() != nil {
		for _, a := range start {
			a.cancel(errShutdown)
		}
	} else {
		now := w.s.clock.Now()
		w.mu.Lock()
		for _, p := range w.pools {
			p.batchIfFull(now)
		}
		w.mu.Unlock()
	}
	close(gate)
}

// sleepUntil returns at at, read on the system clock: it sleeps
// (sleepExactly) until spinLead before at and spins the rest. The
// kernel ends a sleep late by its timer slack, 50µs, and in a virtual
// machine by the time the host takes to wake a virtual processor: here,
// 60–300µs. Each sleep's overshoot sets the next spinLead
// (nextSpinLead).
func (w *worker) sleepUntil(at time.Time) {
	if d := time.Until(at) - w.spinLead; d > 0 {
		until := time.Now().Add(d)
		sleepExactly(d)
		w.spinLead = nextSpinLead(w.spinLead, time.Since(until))
	}
	for time.Until(at) > 0 {
	}
}

// The bounds and the start of worker.spinLead. Spinning costs at most
// maxSpinLead of one processor per burst.
const (
	initialSpinLead = 200 * time.Microsecond
	minSpinLead     = 20 * time.Microsecond
	maxSpinLead     = time.Millisecond
)

// nextSpinLead returns the spin lead after a sleep that ended over past
// its time: a quarter more than over if that is longer than lead, else
// lead less a sixteenth, so that it follows the longest of the recent
// overshoots, within [minSpinLead, maxSpinLead].
func nextSpinLead(lead, over time.Duration) time.Duration {
	if want := over + over/4; want > lead {
		return min(want, maxSpinLead)
	}
	return max(lead-lead/16, minSpinLead)
}

// idle reports whether no run is due soon: the worker is alone on its
// store, so it claims every run created a lookahead ahead, holds none,
// waiting or running, and was handed no run since its last claim. On a
// shared store the runs due next may still be pending, for any node to
// claim shortly before they are due.
//
// The schedule loop asks right after a round hands its runs over, before
// the worker's claim has taken them: without the count of runs made, a
// round that created a burst would find the worker idle and decide the
// next fires a whole Lookahead ahead, at the burst's own instant. On one
// CPU that round held the processor while the burst waited for it.
func (w *worker) idle() bool {
	if w.shared || w.claimedMade.Load() != w.made.Load() {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.active) == 0
}

// startBacklog counts the runs waiting to start: those spawned whose
// task has not begun and, while a held run is due, every held run (an
// upper bound, and O(1): a burst due at one instant is held whole). It
// shrinks as a burst starts, and stays put while the pools are busy.
func (w *worker) startBacklog() int {
	n := int(w.spawned.Load())
	now := w.s.clock.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	held, due := 0, false
	for _, p := range w.pools {
		n += p.due.Load().left() // due, each waiting for a slot to end
		held += p.ready.Len()
		due = due || p.dueHeld(now)
	}
	if due {
		n += held
	}
	return n
}

// launchBatch bounds the runs launchDue takes per hold of w.mu, so tasks
// ending during a burst of launches wait for the lock only briefly.
const launchBatch = 64

// launchReady takes a pool's due runs into start while it has free
// slots, the batch's (due) first, and returns when its next held run
// falls due. Once every slot is busy it moves up to dueBatchSize more
// due runs into a new batch, if the last is spent, for the tasks that
// end to take. The caller holds w.mu and spawns start after releasing it,
// so the tasks that end meanwhile do not queue on the lock behind a burst
// of launches.
func (w *worker) launchReady(p *pool, now time.Time, start *[]*activeRun) time.Time {
	next := w.fillSlots(p, now, start)
	p.batchIfFull(now)
	return next
}

// batchIfFull makes a new batch of the pool's due runs (batchDue) when
// every slot is busy and the last batch is spent; the caller holds w.mu.
func (p *pool) batchIfFull(now time.Time) {
	if p.size > 0 && p.busy >= p.size && p.due.Load().left() == 0 {
		p.batchDue(now)
	}
}

// fillSlots takes a pool's runs due by now into start while it has free
// slots and start has room, the batch's first, and returns when its next
// held run falls due (zero if none, or if it stopped first). The caller
// holds w.mu.
func (w *worker) fillSlots(p *pool, now time.Time, start *[]*activeRun) time.Time {
	for p.busy < p.size && len(*start) < cap(*start) {
		a := p.due.Load().take()
		if a == nil {
			var next time.Time
			if a, next = p.popDue(now); a == nil {
				return next
			}
		}
		w.occupy(a)
		*start = append(*start, a)
	}
	return time.Time{}
}

// popDue takes the pool's next held run off ready if it is due as of
// now; otherwise it returns nil and when that run falls due (zero if
// none is held). The caller holds w.mu.
func (p *pool) popDue(now time.Time) (*activeRun, time.Time) {
	a, ok := p.ready.peek()
	switch {
	case !ok:
		return nil, time.Time{}
	case !a.dueBy(now):
		return nil, a.run.Due
	}
	p.ready.pop()
	return a, time.Time{}
}

// batchDue moves up to dueBatchSize of the pool's due runs off ready
// into a new batch; the caller holds w.mu, and every slot of p is busy.
func (p *pool) batchDue(now time.Time) {
	if runs := p.ready.takeDue(now.UnixNano(), dueBatchSize, nil); len(runs) > 0 {
		p.due.Store(&dueBatch{runs: runs})
	}
}

// occupy gives a run a pool slot; the caller holds w.mu.
func (w *worker) occupy(a *activeRun) {
	a.pool.busy++
}

// spawn starts the tasks of runs that occupy slots, a goroutine each,
// counted in w.tasks by the caller while it held w.mu (so drain, once it
// holds w.mu, waits for every one).
func (w *worker) spawn(runs []*activeRun) { w.spawnAfter(nil, runs) }

// spawnAfter is spawn, with each goroutine waiting for gate to close
// before it runs its task when gate is not nil: a burst's goroutines are
// made before its instant, and all set off at it (startBurst).
func (w *worker) spawnAfter(gate <-chan struct{}, runs []*activeRun) {
	w.spawned.Add(int64(len(runs)))
	for _, a := range runs {
		go w.run(gate, a)
	}
}

// run executes a run, then, while its slot passes to a due run of the
// same pool, that one too, on the same goroutine: a burst of runs due
// together goes through the pool without a goroutine, or a trip through
// the recorder, per run. The goroutine counts once in w.tasks. A run the
// slot passed to starts at the time the last one ended.
func (w *worker) run(gate <-chan struct{}, a *activeRun) {
	if gate != nil {
		<-gate
	}
	w.spawned.Add(-1)
	c := chain{pool: a.pool} // every run the slot passes to is of its pool
	var at time.Time
	for a != nil {
		a, at = w.execute(a, at, &c)
	}
	c.flushGiven()
	w.tasks.Done()
}

// chain is what a goroutine that runs one run after another (worker.run)
// keeps between them, so that in a burst each run shares less with the
// pool's other slots: the claims given back, and a reading of the clock.
type chain struct {
	pool  *pool // the pool of its runs
	given int64 // claims of ended runs not yet added to pool.given

	base time.Time // a reading of the system clock, for now
}

// chainRebase bounds how long a chain derives the time from one reading
// of the system clock (now): the wall clock may be stepped or slewed
// meanwhile, and a derived time drifts from it by that much.
const chainRebase = 100 * time.Millisecond

// now reads the scheduler's clock. On the system clock it adds the
// monotonic time since the chain's last full reading to that reading:
// time.Now reads the wall and the monotonic clock, and in a burst of
// thousands of runs each read is a sizeable part of a run's start.
func (c *chain) now(w *worker) time.Time {
	if !w.systemClock {
		return w.s.clock.Now()
	}
	if !c.base.IsZero() {
		if d := time.Since(c.base); d < chainRebase {
			return c.base.Add(d)
		}
	}
	c.base = time.Now()
	return c.base
}

// chainGiven bounds the claims a chain gives back before it adds them to
// pool.given; until then the pool counts them as held, and claims that
// much less.
const chainGiven = 64

// give counts the claim of a run that ended passing its slot on.
func (c *chain) give() {
	if c.given++; c.given >= chainGiven {
		c.flushGiven()
	}
}

func (c *chain) flushGiven() {
	if c.given > 0 {
		c.pool.given.Add(c.given)
		c.given = 0
	}
}

// countTasks adds n tasks about to be spawned to w.tasks; the caller
// holds w.mu. It adds nothing for none: WaitGroup.Add(0) while drain
// waits, racing the last task's Done, is a misuse that panics.
func (w *worker) countTasks(n int) {
	if n > 0 {
		w.tasks.Add(n)
	}
}

// launch starts a run's task now; the caller holds w.mu.
func (w *worker) launch(a *activeRun) {
	w.occupy(a)
	w.tasks.Add(1)
	w.spawn([]*activeRun{a})
}

// release gives back the slots of ended runs, each straight to its pool's
// next due run. It runs on the recorder's first goroutine, so tasks that
// end together never queue on w.mu.
func (w *worker) release(ended []*activeRun) { w.freeSlots(ended) }

// settle records ended runs, whose slots are already free, and retries
// earlier writes that failed. It runs on the recorder's second goroutine.
func (w *worker) settle(ended []*activeRun, flush bool) (retryIn time.Duration) {
	if len(ended) > 0 {
		ends := make([]unrecorded, len(ended))
		for i, a := range ended {
			a.cancel(nil) // the task has ended: free its context
			ends[i] = w.plan(a.run)
		}
		w.recordAll(ends)
	}
	retryIn = w.recordLater(flush)
	if len(w.spent) > 0 {
		w.s.mem.takeRuns(w.spent)
		clear(w.spent)
		w.spent = w.spent[:0]
	}
	return retryIn
}

// freeSlots gives back the pool slots and claim window of ended runs,
// each slot straight to its pool's next due run. A run whose slot passed
// on (takeNext) gave both back as it ended, so a burst's ends, which
// pass their slots on, never take w.mu here.
func (w *worker) freeSlots(ended []*activeRun) {
	i := slices.IndexFunc(ended, func(a *activeRun) bool { return !a.passed })
	if i < 0 {
		return
	}
	ended = ended[i:]
	now := w.s.clock.Now()
	start := make([]*activeRun, 0, len(ended))
	full := false
	w.mu.Lock()
	for _, a := range ended {
		if a.passed { // its slot is the next run's, its claim given back
			continue
		}
		p := a.pool
		full = full || w.windowFull(p, now)
		p.claimed--
		saturated := p.busy >= p.size
		p.busy--       // every run that ends held a slot
		if saturated { // a due run may be waiting for this slot
			w.launchReady(a.pool, now, &start)
		}
	}
	w.countTasks(len(start))
	w.mu.Unlock()
	w.spawn(start)
	if full { // the loop may claim again; otherwise it has nothing new to do
		wake(w.s.wakeWorker)
	}
}

// execute runs a due run's task and hands the end to the recorder. It
// returns the run its slot passed to, if any, for the caller to execute,
// and when (the end of this one). The task starts at, or now if at is
// zero.
func (w *worker) execute(a *activeRun, at time.Time, c *chain) (*activeRun, time.Time) {
	s, ctx, r := w.s, a.ctx, a.run
	if ctx.Err() != nil { // cancelled while it waited
		return w.end(a, nil, "", c)
	}
	if at.IsZero() {
		at = c.now(w)
	}
	r.Started, a.own.Started = at, at
	if s.wants(EventRunStarted) {
		s.emit(Event{Type: EventRunStarted, JobID: r.JobID, RunID: r.ID, Scheduled: r.Scheduled, Attempt: r.Attempt, Run: r.Clone()})
	}
	var stopTimers func()
	if a.watched {
		stopTimers = w.watch(r)
	}
	stack, err := w.call(a)
	if stopTimers != nil {
		stopTimers()
	}
	return w.end(a, err, stack, c)
}

// watch starts the run's timeout and slow-run timers on the scheduler's
// clock; the returned function stops them. It is called for a watched
// run (hold): one with either.
func (w *worker) watch(r *Run) func() {
	slow := w.slowAfter(r)
	done := make(chan struct{})
	var wg sync.WaitGroup
	if r.Timeout > 0 {
		w.at(&wg, done, r.Started.Add(r.Timeout), func() { w.cancelRun(r.ID, errTimeout) })
	}
	if slow > 0 {
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

// call runs the task on its context and its copy of the run, turning a
// panic into an error and a stack trace. It runs the task hold looked up,
// unless a task was registered since.
func (w *worker) call(a *activeRun) (stack string, err error) {
	ctx, r, t, ok := &a.tctx, &a.own, a.task, a.found
	if w.s.tasks.Load() != a.tasks {
		t, ok = w.s.taskNamed(r.Task)
	}
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
	return "", t.fn(ctx, r)
}

// end classifies how a run ended and hands it to the recorder, so
// recording never delays the start of other runs. It returns the due run
// the slot passed to, if any (takeNext), and the time it ended.
func (w *worker) end(a *activeRun, err error, stack string, c *chain) (*activeRun, time.Time) {
	r, now := a.run, c.now(w)
	r.Finished = now
	r.State, r.Reason, r.Error, r.Stack = outcome(a.ctx, !r.Started.IsZero(), err, stack)
	next := w.takeNext(a, now, c)
	w.rec.add(a) // r is the recorder's now, to write and reuse
	return next, now
}

// takeNext passes the slot of a run that ended at now to its pool's next
// due run, and returns that run: the next of the pool's batch, without
// w.mu, or else as launchReady gives a freed slot. It returns nil when
// none is due, the pool has shrunk below its runs, or w.mu is busy (the
// recorder then frees the slot as usual, so tasks ending together never
// queue on it).
func (w *worker) takeNext(a *activeRun, now time.Time, c *chain) *activeRun {
	p := a.pool
	if b := p.due.Load(); b != nil {
		if next := b.take(); next != nil {
			a.passed = true
			c.give() // a's claim, for fold
			if b.left() == 0 {
				c.flushGiven()
				wake(w.s.wakeWorker) // to batch the next due runs, or claim more
			}
			return next
		}
	}
	if !w.mu.TryLock() {
		return nil
	}
	defer w.mu.Unlock()
	var one [1]*activeRun
	start := one[:0]
	p.busy-- // a's slot, for launchReady to give on
	w.launchReady(p, now, &start)
	if len(start) == 0 {
		p.busy++ // a keeps it until the recorder frees it
		return nil
	}
	a.passed = true
	if w.windowFull(p, now) { // the loop may claim again
		wake(w.s.wakeWorker)
	}
	p.claimed--
	return start[0]
}

// windowFull reports whether a pool's claim window is just full, so that
// one run's end makes room for the worker to claim again. Above it (a
// backlog of due runs shrank the window) an end makes none. The caller
// holds w.mu.
func (w *worker) windowFull(p *pool, now time.Time) bool {
	p.fold()
	return p.claimed == w.windowOf(p, now)
}

// windowOf is how many runs a pool may hold claimed as of now:
// claimWindow per slot (sharedClaimWindow on a shared store), none once
// removed. Alone on its store, while no run it holds is due, a pool may
// hold minClaimWindow: runs due together are claimed whole before their
// instant, but a backlog of due runs waiting for busy slots stays in the
// store (claims take at most maxClaim at a time, so one taken whole is at
// most that much more). The caller holds w.mu.
func (w *worker) windowOf(p *pool, now time.Time) int {
	switch {
	case w.shared:
		return p.size * sharedClaimWindow
	case p.size == 0 || p.dueHeld(now):
		return p.size * claimWindow
	}
	return max(p.size*claimWindow, minClaimWindow)
}

// dueHeld reports whether a run the pool holds is due, waiting for a
// launch or a slot; the caller holds w.mu.
func (p *pool) dueHeld(now time.Time) bool {
	if p.due.Load().left() > 0 {
		return true
	}
	a, ok := p.ready.peek()
	return ok && a.dueBy(now)
}

// dueBy reports whether the run is due as of now.
func (a *activeRun) dueBy(now time.Time) bool { return a.due <= now.UnixNano() }

// outcome classifies how a run ended. A run that never started (the
// scheduler stopped first) is interrupted; a task that returned nil
// succeeded, even if its context was cancelled meanwhile.
func outcome(ctx context.Context, started bool, err error, stack string) (RunState, string, string, string) {
	if started && err == nil { // most runs: no need for the cause, read under its context's lock
		return RunSucceeded, "", "", ""
	}
	cause := context.Cause(ctx)
	switch {
	case !started:
		return RunInterrupted, reasonOf(cause), cause.Error(), ""
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

func (w *worker) report(r, retry *Run) {
	typ := EventRunInterrupted
	switch r.State {
	case RunSucceeded:
		typ = EventJobExecuted
	case RunFailed:
		typ = EventJobError
	}
	if w.s.wants(typ) {
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

// giveBack cancels, with cause, every run the pool holds that has not
// started, in its batch or waiting on ready, and launches each to record
// it as never started: it goes back to pending, to be run again. The
// caller holds w.mu.
func (w *worker) giveBack(p *pool, cause error) {
	back := func(a *activeRun) {
		a.cancel(cause)
		w.launch(a)
	}
	for _, a := range p.closeDue() {
		back(a)
	}
	for p.ready.Len() > 0 {
		back(p.ready.pop())
	}
}

func (w *worker) cancelLocked(a *activeRun, cause error) {
	a.cancel(cause)
	if a.pool.ready.remove(a) { // else it is running, or a slot's next (due)
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
	for _, p := range w.pools {
		w.giveBack(p, errShutdown)
	}
	w.mu.Unlock()
	done := make(chan struct{})
	go func() { w.tasks.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		w.cancelAll(errShutdown)
		<-done
	}
	w.rec.close()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cut
}
