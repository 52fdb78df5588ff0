package pgstore

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/sundialhq/sundial"
)

// Timing of the listener's connection.
const (
	readyWait      = 5 * time.Second        // how long the first subscription waits for the connection
	connectTimeout = 10 * time.Second       // one attempt to connect and LISTEN
	pingEvery      = 5 * time.Second        // silence after which the connection is checked
	pingTimeout    = 5 * time.Second        // how long that check may take
	maxBackoff     = 5 * time.Second        // the longest wait between attempts to reconnect
	fetchTimeout   = 5 * time.Second        // reading a large event batch from its table
	firstBackoff   = 100 * time.Millisecond // the first wait after a failed attempt
)

// listener holds one dedicated connection, outside the pool, that LISTENs
// on the schema's two channels and hands what arrives to the Store's
// subscribers. It starts with the first subscription and runs until the
// Store closes, reconnecting with backoff whenever the connection drops.
type listener struct {
	s    *Store
	live atomic.Bool // connected and listening

	mu      sync.Mutex
	subs    map[int]func(sundial.Notice)
	evSubs  map[int]func([]byte)
	seq     int
	started bool
	stopped bool
	cancel  context.CancelFunc
	ready   chan struct{} // closed once the first attempt to connect ended
	done    chan struct{} // closed when run returns
}

func newListener(s *Store) *listener {
	return &listener{s: s, subs: map[int]func(sundial.Notice){}, evSubs: map[int]func([]byte){},
		ready: make(chan struct{}), done: make(chan struct{})}
}

// subscribe registers fn (notices) or ev (events), starting the
// connection on first use and waiting a while for it, and returns the
// function that unregisters it.
func (l *listener) subscribe(fn func(sundial.Notice), ev func([]byte)) (unsubscribe func()) {
	l.mu.Lock()
	l.seq++
	id := l.seq
	if fn != nil {
		l.subs[id] = fn
	} else {
		l.evSubs[id] = ev
	}
	if !l.started && !l.stopped {
		l.started = true
		ctx, cancel := context.WithCancel(context.Background())
		l.cancel = cancel
		go l.run(ctx)
	}
	started := l.started
	l.mu.Unlock()
	if started {
		timer := time.NewTimer(readyWait)
		select {
		case <-l.ready:
		case <-timer.C:
		}
		timer.Stop()
	}
	return func() {
		l.mu.Lock()
		delete(l.subs, id)
		delete(l.evSubs, id)
		l.mu.Unlock()
	}
}

// stop closes the connection and waits for the listener to end.
func (l *listener) stop() {
	l.mu.Lock()
	l.stopped = true
	started := l.started
	if started {
		l.cancel()
	}
	l.mu.Unlock()
	if started {
		<-l.done
	}
}

// run connects, listens until the connection fails, and starts again,
// until ctx is done.
func (l *listener) run(ctx context.Context) {
	defer close(l.done)
	var readyOnce sync.Once
	ready := func() { readyOnce.Do(func() { close(l.ready) }) }
	defer ready()
	first, backoff := true, time.Duration(0)
	for ctx.Err() == nil {
		conn, err := l.connect(ctx)
		if err != nil {
			first = false
			ready()
			backoff = min(max(2*backoff, firstBackoff), maxBackoff)
			if ctx.Err() == nil {
				l.s.log.Warn("listener_connect_failed", "schema", l.s.schema, "err", l.s.fail(ctx, "listen", err), "retry_in", backoff)
			}
			sleep(ctx, backoff/2+rand.N(backoff/2))
			continue
		}
		backoff = 0
		l.live.Store(true)
		if !first { // notices sent while it was away are lost: look again
			l.s.log.Info("listener_connected", "schema", l.s.schema)
			l.deliver([]sundial.Notice{{Kind: sundial.NoticeJobsChanged}, {Kind: sundial.NoticeRunsCreated}})
		}
		first = false
		ready()
		err = l.receive(ctx, conn)
		l.live.Store(false)
		closeConn(conn)
		if ctx.Err() == nil {
			l.s.log.Warn("listener_disconnected", "schema", l.s.schema, "err", l.s.fail(ctx, "listen", err))
			// A loop asleep until its next fire wakes, and polls.
			l.deliver([]sundial.Notice{{Kind: sundial.NoticeJobsChanged}})
		}
	}
}

// connect opens the dedicated connection, with the pool's settings, and
// LISTENs on both channels.
func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, l.s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return nil, err
	}
	listen := "LISTEN " + pgx.Identifier{l.s.notices}.Sanitize() + "; LISTEN " + pgx.Identifier{l.s.events}.Sanitize()
	if _, err := conn.Exec(ctx, listen); err != nil {
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

// receive hands on notifications until the connection fails or ctx is
// done. After pingEvery of silence it checks the connection, so a
// connection that died without a word (a network partition) is noticed.
func (l *listener) receive(ctx context.Context, conn *pgx.Conn) error {
	for {
		wctx, cancel := context.WithTimeout(ctx, pingEvery)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil && errors.Is(err, context.DeadlineExceeded) || pgconn.Timeout(err):
			pctx, cancel := context.WithTimeout(ctx, pingTimeout)
			err = conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		case err != nil:
			return err
		default:
			l.handle(ctx, n)
		}
	}
}

// handle delivers one notification.
func (l *listener) handle(ctx context.Context, n *pgconn.Notification) {
	switch n.Channel {
	case l.s.notices:
		origin, set, ok := parsePayload(n.Payload)
		if ok && origin != l.s.origin { // this Store delivered its own already
			l.deliver(set.list())
		}
	case l.s.events:
		batch := []byte(n.Payload)
		if id, ok := strings.CutPrefix(n.Payload, "@"); ok {
			var err error
			if batch, err = l.fetch(ctx, id); err != nil {
				l.s.log.Warn("event_batch_unreadable", "schema", l.s.schema, "id", id, "err", err)
				return
			}
		}
		l.deliverEvents(batch)
	}
}

// fetch reads a batch of events too large for a payload from its table.
func (l *listener) fetch(ctx context.Context, id string) ([]byte, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	var data []byte
	err = l.s.pool.QueryRow(ctx, l.s.sql(`SELECT data FROM {schema}.event_batches WHERE id = $1`), n).Scan(&data)
	return data, l.s.fail(ctx, "read event batch", err)
}

// deliver calls the notice subscribers, outside the lock.
func (l *listener) deliver(notices []sundial.Notice) {
	l.mu.Lock()
	subs := make([]func(sundial.Notice), 0, len(l.subs))
	for _, fn := range l.subs {
		subs = append(subs, fn)
	}
	l.mu.Unlock()
	for _, n := range notices {
		for _, fn := range subs {
			fn(n)
		}
	}
}

// deliverEvents calls the event subscribers, outside the lock.
func (l *listener) deliverEvents(batch []byte) {
	l.mu.Lock()
	subs := make([]func([]byte), 0, len(l.evSubs))
	for _, fn := range l.evSubs {
		subs = append(subs, fn)
	}
	l.mu.Unlock()
	for _, fn := range subs {
		fn(batch)
	}
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	}
}
