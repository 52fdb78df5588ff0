package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sundialhq/sundial"
)

// Notices travel on the channel <prefix>notices: every script that
// changes jobs or runs publishes one message at its end, listing what it
// changed ({"i": instance, "n": [[kind, job ID, next fire], …]}; for a
// batch of more than 64 jobs, one notice per kind without a job). A
// Store delivers its own changes to its subscribers itself, at once, and
// skips them when they come back from Redis. Events travel on
// <prefix>events, as sundial.EncodeEvents wrote them.

// Subscribe calls fn for every notice until the returned function is
// called: of the changes made through this Store, on the goroutine that
// made them, after Redis applied them; of those made through other
// Stores on the prefix, on the Store's subscription goroutine. fn must
// not block. The first call opens the subscription (see NoticesLive).
func (s *Store) Subscribe(fn func(sundial.Notice)) (unsubscribe func()) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.subSeq++
	id := s.subSeq
	s.subs[id] = fn
	s.startListening()
	return func() {
		s.subMu.Lock()
		delete(s.subs, id)
		s.subMu.Unlock()
	}
}

// SubscribeEvents calls fn with every batch of events published on the
// prefix, by any node, this one included, until the returned function is
// called. fn must not block. Batches published while the subscription is
// down are not replayed.
func (s *Store) SubscribeEvents(fn func(batch []byte)) (unsubscribe func()) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.subSeq++
	id := s.subSeq
	s.evSubs[id] = fn
	s.startListening()
	return func() {
		s.subMu.Lock()
		delete(s.evSubs, id)
		s.subMu.Unlock()
	}
}

// PublishEvents sends a batch of events (sundial.EncodeEvents) to every
// Store subscribed on the prefix.
func (s *Store) PublishEvents(ctx context.Context, batch []byte) error {
	if s.closed.Load() {
		return &storeError{msg: "redisstore: publish events: the store is closed"}
	}
	return fail(ctx, "publish events", s.rdb.Publish(ctx, s.prefix+"events", batch).Err())
}

// NoticesLive reports whether the Store's subscription is up: false
// before the first Subscribe and while the connection is down. When the
// connection drops the Store delivers NoticeJobsChanged, so a scheduler
// asleep until its next fire wakes and polls; on reconnecting it delivers
// NoticeJobsChanged and NoticeRunsCreated, so the scheduler looks at what
// changed while it was deaf.
func (s *Store) NoticesLive() bool {
	s.subMu.Lock()
	l := s.listen
	s.subMu.Unlock()
	return l != nil && l.live.Load()
}

// message is a notices message.
type message struct {
	Instance string  `json:"i"`
	Notices  [][]any `json:"n"`
}

// deliver hands a script's notices (its message, "" for none) to the
// subscribers.
func (s *Store) deliver(payload string) {
	if payload == "" {
		return
	}
	var m message
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		s.log.Warn("notice_unreadable", "err", err)
		return
	}
	notices := make([]sundial.Notice, 0, len(m.Notices))
	for _, n := range m.Notices {
		if len(n) != 3 {
			continue
		}
		kind, _ := n[0].(float64)
		job, _ := n[1].(string)
		next, _ := n[2].(string)
		t, _ := parseTime(next)
		notices = append(notices, sundial.Notice{Kind: sundial.NoticeKind(kind), JobID: job, NextFire: t})
	}
	s.notify(notices...)
}

// notify calls the subscribers with notices; the caller holds no lock.
func (s *Store) notify(notices ...sundial.Notice) {
	s.subMu.Lock()
	subs := make([]func(sundial.Notice), 0, len(s.subs))
	for _, fn := range s.subs {
		subs = append(subs, fn)
	}
	s.subMu.Unlock()
	for _, n := range notices {
		for _, fn := range subs {
			fn(n)
		}
	}
}

// listener owns the goroutine that holds the Store's subscription.
type listener struct {
	live atomic.Bool
	stop context.CancelFunc
	done chan struct{}

	mu     sync.Mutex
	ps     *redis.PubSub // the current subscription
	closed bool
}

// startListening starts the subscription goroutine once; the caller holds
// subMu.
func (s *Store) startListening() {
	if s.listen != nil || s.closed.Load() {
		return
	}
	ctx, stop := context.WithCancel(context.Background())
	l := &listener{stop: stop, done: make(chan struct{})}
	s.listen = l
	go s.listenLoop(ctx, l)
}

// stopListening stops the subscription goroutine and waits for it.
func (s *Store) stopListening() {
	s.subMu.Lock()
	l := s.listen
	s.subMu.Unlock()
	if l == nil {
		return
	}
	l.stop()
	l.mu.Lock()
	l.closed = true
	if l.ps != nil {
		l.ps.Close()
	}
	l.mu.Unlock()
	<-l.done
}

// use makes ps the current subscription, unless the listener stopped.
func (l *listener) use(ps *redis.PubSub) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ps = ps
	return !l.closed
}

// pingEvery is how long the subscription may be silent before the Store
// pings Redis on it; a ping unanswered for as long again means the
// connection is dead.
const pingEvery = 2 * time.Second

// listenLoop subscribes, and subscribes again whenever the connection
// drops, with a backoff, until the Store closes.
func (s *Store) listenLoop(ctx context.Context, l *listener) {
	defer close(l.done)
	dropped := false
	for attempt := 0; ; attempt++ {
		ps := s.rdb.Subscribe(ctx, s.prefix+"notices", s.prefix+"events")
		if !l.use(ps) {
			ps.Close()
			return
		}
		wasUp := s.receive(ctx, l, ps, dropped)
		ps.Close()
		l.live.Store(false)
		dropped = true
		if wasUp && ctx.Err() == nil {
			// Wake a loop asleep until its next fire: it polls now.
			attempt = 0
			s.log.Warn("notices_down", "hint", "polling the store until the subscription is back")
			s.notify(sundial.Notice{Kind: sundial.NoticeJobsChanged})
		}
		if !sleep(ctx, backoff(attempt)) {
			return
		}
	}
}

// backoff is the wait before subscribing again after attempt failures in
// a row: none after the first, then from 50ms doubling to 2s.
func backoff(attempt int) time.Duration {
	if attempt == 0 {
		return 0
	}
	return min(50*time.Millisecond<<min(attempt-1, 6), 2*time.Second)
}

// sleep waits for d or ctx, and reports whether ctx is still live.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// receive reads the subscription until its connection fails, and reports
// whether it was up. When it comes up after a drop it delivers
// NoticeJobsChanged and NoticeRunsCreated, as the loops may have missed
// changes meanwhile.
func (s *Store) receive(ctx context.Context, l *listener, ps *redis.PubSub, dropped bool) (up bool) {
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, pingEvery)
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout() && !pinged && ctx.Err() == nil:
			pinged = ps.Ping(ctx) == nil
			if !pinged {
				return up
			}
			continue
		case err != nil:
			return up
		}
		pinged = false
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" && m.Count == 2 && !up {
				up = true
				l.live.Store(true)
				if dropped {
					s.notify(sundial.Notice{Kind: sundial.NoticeJobsChanged}, sundial.Notice{Kind: sundial.NoticeRunsCreated})
				}
			}
		case *redis.Message:
			s.dispatch(m)
		}
	}
}

// dispatch hands a message from Redis to the subscribers.
func (s *Store) dispatch(m *redis.Message) {
	switch m.Channel {
	case s.prefix + "notices":
		var head struct {
			Instance string `json:"i"`
		}
		if json.Unmarshal([]byte(m.Payload), &head) == nil && head.Instance != s.instance {
			s.deliver(m.Payload)
		}
	case s.prefix + "events":
		s.subMu.Lock()
		subs := make([]func([]byte), 0, len(s.evSubs))
		for _, fn := range s.evSubs {
			subs = append(subs, fn)
		}
		s.subMu.Unlock()
		for _, fn := range subs {
			fn([]byte(m.Payload))
		}
	}
}
