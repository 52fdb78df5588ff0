package sundial

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds what a scheduler does only when its store is shared by
// several nodes: running on the store's clock, and sharing events.

// offsetClock is a Clock corrected by an offset measured against the
// store's clock. Timers are durations, which need no correction.
type offsetClock struct {
	base Clock
	off  atomic.Int64 // nanoseconds to add to base.Now()
}

func (c *offsetClock) Now() time.Time                 { return c.base.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) NewTimer(d time.Duration) Timer { return c.base.NewTimer(d) }

// offsetDeadlineClock keeps a DeadlineClock's instant timers.
type offsetDeadlineClock struct{ *offsetClock }

func (c offsetDeadlineClock) NewTimerAt(t time.Time) Timer {
	return c.base.(DeadlineClock).NewTimerAt(t.Add(-time.Duration(c.off.Load())))
}

// withStoreClock wraps s.clock when the store tells time, so every
// decision is on the store's clock. It returns the wrapper, or nil.
func (s *Scheduler) withStoreClock() *offsetClock {
	if _, ok := s.store.(StoreClock); !ok || s.cfg.KeepClock {
		return nil
	}
	oc := &offsetClock{base: s.clock}
	if _, ok := s.clock.(DeadlineClock); ok {
		s.clock = offsetDeadlineClock{oc}
	} else {
		s.clock = oc
	}
	return oc
}

// syncClock measures the offset of the store's clock from the node's and
// corrects the scheduler's clock by it. The store's reading is taken to
// be from the middle of the round trip, so the error is at most half of
// it; a new reading replaces the offset only when it moved by more than
// that error, so the corrected clock does not wobble with network delay.
// samples readings are taken and the one with the shortest trip is kept.
func (s *Scheduler) syncClock(ctx context.Context, samples int) error {
	oc := s.storeClock
	if oc == nil {
		return nil
	}
	sc := s.store.(StoreClock)
	var best, bestTrip time.Duration = 0, -1
	for range samples {
		t0 := oc.base.Now()
		at, err := sc.StoreNow(ctx)
		if err != nil {
			return err
		}
		trip := oc.base.Now().Sub(t0)
		if bestTrip < 0 || trip < bestTrip {
			best, bestTrip = at.Sub(t0.Add(trip/2)), trip
		}
	}
	old := time.Duration(oc.off.Load())
	if d := best - old; d > bestTrip/2+time.Millisecond || -d > bestTrip/2+time.Millisecond {
		oc.off.Store(int64(best))
		if d > time.Second || -d > time.Second {
			s.log.Warn("clock_offset", "offset", best, "change", d,
				"hint", "this node's clock differs from the store's; the scheduler runs on the store's")
		}
	}
	return nil
}

// Offset returns how far the scheduler's clock is set from Config.Clock:
// the store's clock minus the node's, as last measured (zero unless the
// store is a StoreClock).
func (s *Scheduler) Offset() time.Duration {
	if s.storeClock == nil {
		return 0
	}
	return time.Duration(s.storeClock.off.Load())
}

// eventOutbox batches the events this node shares through an EventBus
// store. One goroutine publishes; events emitted while it is publishing
// form the next batch, so the batch size follows the load with no timer.
//
// Sharing follows demand: each node advertises the event types its
// subscribers want (at start, when they change, and every heartbeat
// interval),
// and a node publishes only the types some other node advertised within
// interestTTL. A cluster where nobody listens sends no events at all.
type eventOutbox struct {
	bus   EventBus
	mu    sync.Mutex
	queue []Event
	kick  chan struct{}
	done  chan struct{}

	imu       sync.Mutex
	interests map[string]remoteInterest // by node
	wanted    atomic.Uint64             // union of the live interests, within SharedEvents
	said      EventType                 // the mask this node last advertised
}

type remoteInterest struct {
	mask EventType
	seen time.Time // on this node's clock
}

// maxEventBatch bounds the events in one PublishEvents call.
const maxEventBatch = 256

// maxEventQueue bounds the events waiting to be shared; past it the
// oldest are dropped rather than memory grown.
const maxEventQueue = 1 << 16

// interestTTL is how long a node's advertised interest holds without a
// refresh, in heartbeat TTLs: a node that stops advertising (it ended, or
// lost the store) stops receiving.
const interestTTL = 3

// startSharing publishes this node's events to, and delivers the other
// nodes' events from, an EventBus store. It returns the function that
// flushes what is queued and stops both.
func (s *Scheduler) startSharing(ctx context.Context) (stop func()) {
	bus, ok := s.store.(EventBus)
	if !ok || s.cfg.LocalEvents {
		return func() {}
	}
	o := &eventOutbox{bus: bus, kick: make(chan struct{}, 1), done: make(chan struct{}),
		interests: map[string]remoteInterest{}}
	unsub := bus.SubscribeEvents(s.remoteEvents)
	s.outbox.Store(o)
	s.advertise(ctx, true)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); s.publish(o) }()
	return func() {
		s.outbox.Store(nil)
		close(o.done)
		wg.Wait()
		unsub()
	}
}

// advertise tells the other nodes which event types this node's
// subscribers want, when that changed or when refresh is set (a node with
// no subscribers refreshes nothing). It also forgets interests that were
// not refreshed in time.
func (s *Scheduler) advertise(ctx context.Context, refresh bool) {
	o := s.outbox.Load()
	if o == nil {
		return
	}
	mask := EventType(s.events.mask.Load())
	o.imu.Lock()
	changed := mask != o.said
	o.said = mask
	o.expireLocked(s.clock.Now(), interestTTL*s.cfg.HeartbeatTTL)
	o.imu.Unlock()
	if !changed && (!refresh || mask == 0) {
		return
	}
	data, err := encodeInterest(s.cfg.NodeID, mask, s.clock.Now())
	if err == nil {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err = o.bus.PublishEvents(ctx, data)
		cancel()
	}
	if err != nil {
		s.log.Warn("advertise_events_failed", "err", err)
	}
}

// expireLocked drops interests older than ttl and recomputes the union;
// the caller holds o.imu.
func (o *eventOutbox) expireLocked(now time.Time, ttl time.Duration) {
	var union EventType
	for node, in := range o.interests {
		if now.Sub(in.seen) > ttl {
			delete(o.interests, node)
			continue
		}
		union |= in.mask
	}
	o.wanted.Store(uint64(union))
}

// heard records another node's interest.
func (s *Scheduler) heard(o *eventOutbox, in interest) {
	o.imu.Lock()
	defer o.imu.Unlock()
	o.interests[in.node] = remoteInterest{mask: in.mask, seen: s.clock.Now()}
	o.expireLocked(s.clock.Now(), interestTTL*s.cfg.HeartbeatTTL)
}

// shares reports whether events of type t go to other nodes.
func (s *Scheduler) shares(o *eventOutbox, t EventType) bool {
	return o != nil && s.cfg.SharedEvents&EventType(o.wanted.Load())&t != 0
}

// share queues e for the other nodes.
func (o *eventOutbox) share(e Event) {
	o.mu.Lock()
	if len(o.queue) >= maxEventQueue {
		o.queue = o.queue[1:]
	}
	o.queue = append(o.queue, e)
	o.mu.Unlock()
	wake(o.kick)
}

// publish sends queued events until done, then sends what is left; every
// HeartbeatInterval it renews this node's interest, whatever its role.
func (s *Scheduler) publish(o *eventOutbox) {
	renew := s.clock.NewTimer(s.cfg.HeartbeatInterval)
	defer renew.Stop()
	for {
		select {
		case <-o.kick:
		case <-renew.C():
			s.advertise(context.Background(), true)
			renew.Reset(s.cfg.HeartbeatInterval)
		case <-o.done:
			s.publishQueued(o)
			return
		}
		s.publishQueued(o)
	}
}

func (s *Scheduler) publishQueued(o *eventOutbox) {
	o.mu.Lock()
	batch := o.queue
	o.queue = nil
	o.mu.Unlock()
	for len(batch) > 0 {
		n := min(len(batch), maxEventBatch)
		data, err := EncodeEvents(batch[:n])
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			err = o.bus.PublishEvents(ctx, data)
			cancel()
		}
		if err != nil {
			s.log.Warn("publish_events_failed", "events", n, "err", err)
		}
		batch = batch[n:]
	}
}

// remoteEvents delivers a batch published by any node to this node's
// subscribers, skipping this node's own events, and notes the interests
// it carries.
func (s *Scheduler) remoteEvents(data []byte) {
	events, interests, err := decodeBatch(data)
	if err != nil {
		s.log.Warn("remote_events_unreadable", "err", err)
		return
	}
	if o := s.outbox.Load(); o != nil {
		for _, in := range interests {
			if in.node != s.cfg.NodeID {
				s.heard(o, in)
			}
		}
	}
	for _, e := range events {
		if e.Node == s.cfg.NodeID {
			continue
		}
		e.Remote = true
		s.events.emit(e)
	}
}

// wants reports whether an event of type t has a reader: a subscriber
// here, or another node's.
func (s *Scheduler) wants(t EventType) bool {
	return s.events.wants(t) || s.shares(s.outbox.Load(), t)
}
