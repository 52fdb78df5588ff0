package sundial

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Scheduler runs jobs: a schedule loop turns due fires into runs and a
// worker loop executes them, both over the Config's Store. Every method is
// safe to call from any goroutine, and from inside a task or a listener.
type Scheduler struct {
	cfg   Config
	store Store
	mem   *MemoryStore // the store, when it is the memory store: it takes what it is given, and gives back what it lent
	clock Clock
	log   *slog.Logger

	events dispatcher
	worker *worker

	mu       sync.Mutex
	tasks    atomic.Pointer[map[string]task]
	state    schedState
	paused   bool
	stop     context.CancelFunc // stops the loops
	loops    sync.WaitGroup     // the schedule and worker loops
	beats    sync.WaitGroup     // the heartbeat loop, stopped last
	stopHB   context.CancelFunc
	unwatch  func()
	started  time.Time
	lastBeat time.Time // last heartbeat the store accepted

	orphansSeen time.Time    // last look for lost claims (heartbeat loop only)
	spareRuns   []*Run       // runs for decisions to fill (schedule loop only; scheduleRound)
	commits     []FireCommit // the last round's array (schedule loop only)
	fires       []time.Time  // the decisions' storage for fires (schedule loop only)
	runSlab     []*Run       // the decisions' storage for their commits' runs (schedule loop only)

	wakeSchedule chan struct{}
	wakeWorker   chan struct{}

	storeClock *offsetClock                // set when the scheduler runs on the store's clock
	outbox     atomic.Pointer[eventOutbox] // set while events are shared with other nodes
	stopShare  func()
}

type schedState uint8

const (
	stateNew schedState = iota
	stateRunning
	stateStopped
)

// New returns a scheduler for cfg. It fails with a *FieldError naming the
// Config field (or SUNDIAL_ROLE) that is invalid.
func New(cfg Config) (*Scheduler, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	s := &Scheduler{
		cfg: cfg, store: cfg.Store, clock: cfg.Clock, log: cfg.Logger,
		wakeSchedule: make(chan struct{}, 1),
		wakeWorker:   make(chan struct{}, 1),
	}
	s.mem, _ = cfg.Store.(*MemoryStore)
	s.tasks.Store(&map[string]task{})
	s.storeClock = s.withStoreClock()
	s.worker = newWorker(s)
	return s, nil
}

// NodeID returns the node's name among those sharing the store.
func (s *Scheduler) NodeID() string { return s.cfg.NodeID }

// Role returns what the node does, after SUNDIAL_ROLE.
func (s *Scheduler) Role() Role { return s.cfg.Role }

// Store returns the scheduler's store.
func (s *Scheduler) Store() Store { return s.store }

// Clock returns the scheduler's clock (Config.Clock, or SystemClock,
// corrected by the store's offset on a StoreClock store unless
// Config.KeepClock), for listeners that time things the way the scheduler
// does, such as alerts.
func (s *Scheduler) Clock() Clock { return s.clock }

var errStarted = errors.New("sundial: the scheduler was already started")

// Start starts the loops the node's role calls for and returns once they
// run; ctx bounds only the start (the first heartbeat). It fails if the
// scheduler was started before or the store cannot be reached.
func (s *Scheduler) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.state != stateNew {
		s.mu.Unlock()
		return errStarted
	}
	s.state = stateRunning
	s.mu.Unlock()
	if err := s.syncClock(ctx, 3); err != nil {
		s.mu.Lock()
		s.state = stateNew
		s.mu.Unlock()
		return err
	}
	s.mu.Lock()
	s.started = s.clock.Now()
	s.mu.Unlock()
	if s.cfg.Role != RoleClient {
		if _, err := s.heartbeat(ctx); err != nil {
			s.mu.Lock()
			s.state = stateNew
			s.mu.Unlock()
			return err
		}
	}
	if n, ok := s.store.(Notifier); ok {
		s.unwatch = n.Subscribe(s.notice)
	}
	s.stopShare = s.startSharing(ctx)
	loopCtx, stop := context.WithCancel(context.Background())
	hbCtx, stopHB := context.WithCancel(context.Background())
	s.stop, s.stopHB = stop, stopHB
	s.startLoops(loopCtx, hbCtx)
	s.emit(Event{Type: EventStoreAdded, Subject: storeName(s.store)})
	for name := range s.Executors() {
		s.emit(Event{Type: EventExecutorAdded, Subject: name})
	}
	s.emit(Event{Type: EventSchedulerStarted})
	s.log.Info("scheduler_started", "node", s.cfg.NodeID, "role", s.cfg.Role.String())
	return nil
}

func (s *Scheduler) startLoops(loopCtx, hbCtx context.Context) {
	role := s.cfg.Role
	if role == RoleClient {
		return
	}
	s.beats.Add(1)
	go func() { defer s.beats.Done(); s.heartbeatLoop(hbCtx) }()
	if role == RoleAll || role == RoleScheduler {
		s.loops.Add(1)
		go func() { defer s.loops.Done(); s.scheduleLoop(loopCtx) }()
	}
	if role == RoleAll || role == RoleWorker {
		s.worker.rec.start(s.clock, s.worker.release, s.worker.settle, s.worker.startBacklog)
		s.loops.Add(1)
		go func() { defer s.loops.Done(); s.worker.loop(loopCtx) }()
	}
}

// Run starts the scheduler, blocks until ctx is done, then shuts down,
// waiting for running tasks to finish. It returns Start's error, if any.
func (s *Scheduler) Run(ctx context.Context) error {
	if err := s.Start(ctx); err != nil {
		return err
	}
	<-ctx.Done()
	_, err := s.Shutdown(context.WithoutCancel(ctx))
	return err
}

// Shutdown stops claiming new work, waits for running tasks until ctx is
// done, then cancels the rest and returns the runs it cut short (recorded
// interrupted, and retried later when their jobs allow). Nothing is left
// running in the store. Shutting down a scheduler that is not running
// does nothing.
func (s *Scheduler) Shutdown(ctx context.Context) ([]*Run, error) {
	s.mu.Lock()
	if s.state != stateRunning {
		s.mu.Unlock()
		return nil, nil
	}
	s.state = stateStopped
	s.mu.Unlock()
	s.stop()
	s.loops.Wait()
	cut := s.worker.drain(ctx)
	s.stopHB()
	s.beats.Wait()
	if s.unwatch != nil {
		s.unwatch()
	}
	s.emit(Event{Type: EventSchedulerShutdown})
	s.stopShare()
	s.events.flush()
	s.log.Info("scheduler_shutdown", "node", s.cfg.NodeID, "cut_short", len(cut))
	return cut, nil
}

// Pause stops the schedule loop from creating runs until Resume; running
// and already-created runs go on.
func (s *Scheduler) Pause() {
	s.mu.Lock()
	s.paused = true
	s.mu.Unlock()
	s.emit(Event{Type: EventSchedulerPaused})
}

// Resume undoes Pause; fires that fell due meanwhile follow each job's
// misfire and coalesce policies.
func (s *Scheduler) Resume() {
	s.mu.Lock()
	s.paused = false
	s.mu.Unlock()
	s.emit(Event{Type: EventSchedulerResumed})
	wake(s.wakeSchedule)
}

func (s *Scheduler) isPaused() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.paused
}

// notice wakes the loop a store notice concerns.
func (s *Scheduler) notice(n Notice) {
	switch n.Kind {
	case NoticeJobsChanged:
		wake(s.wakeSchedule)
	case NoticeRunsCreated, NoticeRunFinished:
		s.worker.noticed(s.clock.Now())
	}
}

// wake signals a loop without blocking.
func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// sleep waits for d on the scheduler's clock, a wake-up on c, or ctx.
func (s *Scheduler) sleep(ctx context.Context, d time.Duration, c chan struct{}) {
	if d <= 0 {
		return
	}
	s.wait(ctx, s.clock.NewTimer(d), c)
}

// sleepUntil waits until the clock reads t, a wake-up on c, or ctx.
func (s *Scheduler) sleepUntil(ctx context.Context, t time.Time, c chan struct{}) {
	s.wait(ctx, timerAt(s.clock, t), c)
}

func (s *Scheduler) wait(ctx context.Context, t Timer, c chan struct{}) {
	defer t.Stop()
	select {
	case <-t.C():
	case <-c:
	case <-ctx.Done():
	}
}

func (s *Scheduler) emit(e Event) {
	if e.Time.IsZero() {
		e.Time = s.clock.Now()
	}
	e.Node = s.cfg.NodeID
	if o := s.outbox.Load(); s.shares(o, e.Type) {
		o.share(e)
	}
	s.events.emit(e)
}
