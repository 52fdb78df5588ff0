package alert

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sundialhq/sundial"
)

// Alerter turns a scheduler's events into messages to Slack and webhooks.
// Its methods are safe for concurrent use.
type Alerter struct {
	cfg   Config
	clock sundial.Clock
	log   *slog.Logger
	kinds map[Kind]bool // nil: every kind

	mu          sync.Mutex
	closed      bool
	sched       *sundial.Scheduler // attached, or nil
	unsubscribe func()
	timers      dueHeap
	windows     map[string]*window       // rate limits, by limitKey
	history     map[string]*history      // recent durations, by job
	runs        map[string]*running      // runs started and not ended, by run ID
	fires       map[fireKey]*expected    // fires expected to start
	listed      map[string]fireKey       // per job, the fire expected from its NextFire
	graces      map[string]time.Duration // jobs' MisfireGrace, where longer than Config.Grace
	reported    map[fireKey]time.Time    // fires alerted missed, so each is alerted once
	outboxes    []*outbox

	wake     chan struct{}
	syncs    chan chan struct{}
	life     context.Context // the timer loop's lifetime, and its store queries'
	stop     context.CancelFunc
	loopDone chan struct{}
	sendCtx  context.Context // the senders' requests; cancelled when Close runs out of time
	abort    context.CancelFunc
	senders  sync.WaitGroup
	unsent   atomic.Int64 // messages abandoned by Close
}

// New returns an Alerter sending to cfg's destinations, with its goroutines
// started; Close stops them. It fails with a *ConfigError naming the bad
// field, such as "alert: slack.url: missing".
func New(cfg Config) (*Alerter, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	a := &Alerter{cfg: cfg, clock: cfg.Clock, log: cfg.Logger,
		windows: map[string]*window{}, history: map[string]*history{}, runs: map[string]*running{},
		fires: map[fireKey]*expected{}, listed: map[string]fireKey{}, graces: map[string]time.Duration{},
		reported: map[fireKey]time.Time{},
		wake:     make(chan struct{}, 1), syncs: make(chan chan struct{}), loopDone: make(chan struct{})}
	if cfg.Kinds != nil {
		a.kinds = map[Kind]bool{}
		for _, k := range cfg.Kinds {
			a.kinds[k] = true
		}
	}
	a.life, a.stop = context.WithCancel(context.Background())
	a.sendCtx, a.abort = context.WithCancel(context.Background())
	for _, d := range cfg.Destinations {
		o := &outbox{dest: d, queue: make(chan Message, cfg.QueueSize)}
		a.outboxes = append(a.outboxes, o)
		a.senders.Add(1)
		go func() { defer a.senders.Done(); a.send(o) }()
	}
	go a.loop()
	return a, nil
}

// Attach subscribes the Alerter to s's events and, unless PollInterval is
// negative, reads s's job list every PollInterval so that a fire no
// scheduler turns into a run is reported missed. Pass the scheduler's
// clock in Config.Clock. Close unsubscribes. Attach panics when called a
// second time: an Alerter serves one scheduler.
func (a *Alerter) Attach(s *sundial.Scheduler) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.sched != nil {
		panic("alert: Attach called twice; an Alerter serves one scheduler")
	}
	if a.closed {
		return
	}
	a.sched = s
	a.unsubscribe = s.Subscribe(Events, a.Listen)
	if a.cfg.PollInterval > 0 && a.cfg.Grace >= 0 {
		a.scheduleLocked(&due{at: a.clock.Now(), kind: duePoll})
	}
}

// Close stops listening and timing, sends the alerts the rate limit still
// holds back, and waits until every queued message is delivered or has
// failed, or until ctx is done: then it abandons the rest and returns an
// error saying how many were not sent. Closing twice does nothing.
func (a *Alerter) Close(ctx context.Context) error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	unsubscribe := a.unsubscribe
	a.mu.Unlock()
	if unsubscribe != nil {
		unsubscribe()
	}
	a.stop()
	<-a.loopDone
	a.mu.Lock()
	a.flushWindowsLocked()
	for _, o := range a.outboxes {
		close(o.queue)
	}
	a.mu.Unlock()
	done := make(chan struct{})
	go func() { a.senders.Wait(); close(done) }()
	select {
	case <-done:
		a.abort()
		return nil
	case <-ctx.Done():
	}
	a.abort()
	<-done
	if n := a.unsent.Load(); n > 0 {
		return fmt.Errorf("alert: close: %d messages not sent: %w", n, ctx.Err())
	}
	return nil
}
