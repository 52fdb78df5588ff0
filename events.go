package sundial

import (
	"context"
	"sync"
	"sync/atomic"
)

// dispatcher delivers events to subscribers in order, on a goroutine of its
// own that runs while events are queued, so a listener never runs under a
// scheduler lock and may call the scheduler (add or remove jobs) without
// deadlocking.
type dispatcher struct {
	mu      sync.Mutex
	subs    map[int]subscription
	seq     int
	queue   []Event
	running bool
	stopped *sync.Cond    // broadcast when the drainer stops running
	mask    atomic.Uint64 // the union of the subscribed types
}

type subscription struct {
	mask EventType
	fn   func(Event)
}

// Subscribe calls fn for every event whose type is in mask, in order, until
// the returned function is called. fn runs on the scheduler's event
// goroutine: a slow listener delays later events, not the scheduler.
//
// On a store that shares events between nodes ([EventBus]), Subscribe
// also tells the other nodes which types this node now wants, before it
// returns, so their events of those types reach fn from then on.
func (s *Scheduler) Subscribe(mask EventType, fn func(Event)) (unsubscribe func()) {
	d := &s.events
	d.mu.Lock()
	if d.subs == nil {
		d.subs = map[int]subscription{}
	}
	d.seq++
	id := d.seq
	d.subs[id] = subscription{mask, fn}
	d.updateMask()
	d.mu.Unlock()
	s.advertise(context.Background(), false)
	return func() {
		d.mu.Lock()
		delete(d.subs, id)
		d.updateMask()
		d.mu.Unlock()
		s.advertise(context.Background(), false)
	}
}

// updateMask recomputes the union of subscribed types; the caller holds
// d.mu.
func (d *dispatcher) updateMask() {
	var m EventType
	for _, sub := range d.subs {
		m |= sub.mask
	}
	d.mask.Store(uint64(m))
}

// wants reports whether any subscriber takes events of type t, so hot
// paths can skip building events nobody reads.
func (d *dispatcher) wants(t EventType) bool { return EventType(d.mask.Load())&t != 0 }

func (d *dispatcher) emit(e Event) {
	if !d.wants(e.Type) {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.queue = append(d.queue, e)
	if !d.running {
		d.running = true
		go d.drain()
	}
}

func (d *dispatcher) drain() {
	for {
		d.mu.Lock()
		batch := d.queue
		d.queue = nil
		if len(batch) == 0 {
			d.running = false
			if d.stopped != nil {
				d.stopped.Broadcast()
			}
			d.mu.Unlock()
			return
		}
		subs := make([]subscription, 0, len(d.subs))
		for _, sub := range d.subs {
			subs = append(subs, sub)
		}
		d.mu.Unlock()
		for _, e := range batch {
			for _, sub := range subs {
				if sub.mask&e.Type != 0 {
					sub.fn(e)
				}
			}
		}
	}
}

// flush waits until every queued event has been delivered.
func (d *dispatcher) flush() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.stopped == nil {
		d.stopped = sync.NewCond(&d.mu)
	}
	for d.running {
		d.stopped.Wait()
	}
}
