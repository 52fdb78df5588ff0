package pglock

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

var (
	// ErrNotObtained reports that Obtain found the lock held by another
	// session.
	ErrNotObtained = errors.New("pglock: lock not obtained: held by another")
	// ErrNotHeld reports that Release found the lock not held any more:
	// its connection was lost, or it was released already.
	ErrNotHeld = errors.New("pglock: lock not held")
	// ErrLost is the cause of a lock's Context when its connection failed.
	ErrLost = errors.New("pglock: lock lost: its connection failed")
	// ErrReleased is the cause of a lock's Context after Release.
	ErrReleased = errors.New("pglock: lock released")
	// ErrInvalid reports a bad argument or option.
	ErrInvalid = errors.New("pglock: invalid argument")
)

// Options configures a Locker. The zero value is ready to use.
type Options struct {
	// Schema holds the table of fencing tokens; it must exist. Empty
	// means "public".
	Schema string
	// Table is the name of the table of fencing tokens, created on first
	// use. Empty means "sundial_lock_fences".
	Table string
	// PingEvery is how often a held lock checks that its connection is
	// alive. Zero means 1s.
	PingEvery time.Duration
}

// Locker obtains locks through a pool. It is safe for concurrent use.
type Locker struct {
	pool  *pgxpool.Pool
	table string // the fence table's quoted, qualified name
	every time.Duration

	mu    sync.Mutex
	ready bool // the fence table exists
}

// New returns a Locker that takes its connections from pool, which it
// does not close. It fails with an error matching ErrInvalid for a
// negative PingEvery.
func New(pool *pgxpool.Pool, opt Options) (*Locker, error) {
	if opt.PingEvery < 0 {
		return nil, fmt.Errorf("%w: ping_every %v is negative", ErrInvalid, opt.PingEvery)
	}
	if opt.Schema == "" {
		opt.Schema = "public"
	}
	if opt.Table == "" {
		opt.Table = "sundial_lock_fences"
	}
	if opt.PingEvery == 0 {
		opt.PingEvery = time.Second
	}
	return &Locker{pool: pool, table: pgx.Identifier{opt.Schema, opt.Table}.Sanitize(), every: opt.PingEvery}, nil
}

// Key returns the advisory lock key of a lock's name: its 64-bit FNV-1a
// hash, as pg_locks shows it (classid the high 32 bits, objid the low,
// objsubid 1).
func Key(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return int64(h.Sum64())
}

// createKey serializes the creation of the fence table.
var createKey = Key("sundial/pglock: create the fence table")

// prepare creates the fence table on first use.
func (lk *Locker) prepare(ctx context.Context) error {
	lk.mu.Lock()
	defer lk.mu.Unlock()
	if lk.ready {
		return nil
	}
	// CREATE TABLE IF NOT EXISTS races with itself in PostgreSQL: take
	// turns.
	err := pgx.BeginFunc(ctx, lk.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, createKey); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS `+lk.table+` (name text PRIMARY KEY, fence bigint NOT NULL)`)
		return err
	})
	if err != nil {
		return fmt.Errorf("pglock: create %s: %w", lk.table, err)
	}
	lk.ready = true
	return nil
}

// Obtain takes the lock named name if no session holds it, with its own
// connection from the pool, and holds it until Release or until that
// connection fails. It fails with ErrNotObtained when the lock is held,
// with an error matching ErrInvalid for an empty name, and with the
// database's error otherwise.
func (lk *Locker) Obtain(ctx context.Context, name string) (*Lock, error) {
	if name == "" {
		return nil, fmt.Errorf("%w: empty name", ErrInvalid)
	}
	if err := lk.prepare(ctx); err != nil {
		return nil, err
	}
	conn, err := lk.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("pglock: obtain %s: %w", name, err)
	}
	l := &Lock{conn: conn, name: name, key: Key(name), every: lk.every,
		lost: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	var ok bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, l.key).Scan(&ok); err != nil || !ok {
		conn.Release()
		if err != nil {
			return nil, fmt.Errorf("pglock: obtain %s: %w", name, err)
		}
		return nil, ErrNotObtained
	}
	err = conn.QueryRow(ctx, `INSERT INTO `+lk.table+` AS f (name, fence) VALUES ($1, 1)
		ON CONFLICT (name) DO UPDATE SET fence = f.fence + 1 RETURNING fence`, name).Scan(&l.fence)
	if err != nil {
		l.drop()
		return nil, fmt.Errorf("pglock: obtain %s: fencing token: %w", name, err)
	}
	l.ctx, l.cancel = context.WithCancelCause(context.Background())
	go l.watch()
	return l, nil
}

// Lock is a held lock. Its methods are safe for concurrent use.
type Lock struct {
	name  string
	key   int64
	fence int64
	every time.Duration

	ctx    context.Context
	cancel context.CancelCauseFunc
	lost   chan struct{} // closed when the connection failed
	stop   chan struct{} // closed by Release
	done   chan struct{} // closed when watch returns

	mu       sync.Mutex    // guards conn: a connection serves one call at a time
	conn     *pgxpool.Conn // nil once given back
	released bool
}

// Name returns the lock's name.
func (l *Lock) Name() string { return l.name }

// Fence returns the lock's fencing token: greater than that of every
// earlier holder of the name.
func (l *Lock) Fence() int64 { return l.fence }

// Context returns a context cancelled when the lock is lost (cause
// ErrLost) or released (cause ErrReleased): the holder's work runs under
// it.
func (l *Lock) Context() context.Context { return l.ctx }

// Lost returns a channel closed when the lock's connection fails: the
// server has released the lock, or will when it notices. It is not closed
// by Release.
func (l *Lock) Lost() <-chan struct{} { return l.lost }

// watch pings the lock's connection every l.every until Release, and
// declares the lock lost when a ping fails.
func (l *Lock) watch() {
	defer close(l.done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		if !l.ping() {
			l.cancel(ErrLost)
			close(l.lost)
			return
		}
	}
}

// ping checks the connection, and drops it when it failed.
func (l *Lock) ping() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), l.every)
	defer cancel()
	if err := l.conn.Ping(ctx); err != nil {
		l.dropLocked()
		return false
	}
	return true
}

// drop closes the connection and gives it back to the pool, which
// discards it: the session ends, and its locks with it.
func (l *Lock) drop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dropLocked()
}

func (l *Lock) dropLocked() {
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	l.conn.Conn().Close(ctx)
	l.conn.Release()
	l.conn = nil
}

// Release unlocks the lock and gives its connection back to the pool (or
// closes it, if unlocking failed: ending the session releases the lock),
// and cancels the lock's Context. It fails with ErrNotHeld when the lock
// was lost or released already.
func (l *Lock) Release(ctx context.Context) error {
	l.mu.Lock()
	first := !l.released
	l.released = true
	l.mu.Unlock()
	if !first {
		return ErrNotHeld
	}
	close(l.stop)
	<-l.done
	l.cancel(ErrReleased)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return ErrNotHeld
	}
	var ok bool
	err := l.conn.QueryRow(ctx, `SELECT pg_advisory_unlock($1)`, l.key).Scan(&ok)
	if err != nil || !ok {
		l.dropLocked()
		if err != nil {
			return fmt.Errorf("pglock: release %s: %w", l.name, err)
		}
		return ErrNotHeld
	}
	l.conn.Release()
	l.conn = nil
	return nil
}
