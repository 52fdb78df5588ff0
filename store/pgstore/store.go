package pgstore

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is a sundial.Store on a PostgreSQL database. It is safe for
// concurrent use, and any number of Stores, in one process or on many
// machines, may share a schema: they arbitrate through row locks, the
// runs table's unique key and leases checked on the server's clock. It
// implements sundial.Notifier and sundial.EventBus through LISTEN/NOTIFY,
// sundial.NoticeHealth, sundial.StoreClock and sundial.RunFinisher.
type Store struct {
	pool    *pgxpool.Pool
	owned   bool   // the Store opened pool and closes it
	schema  string // the schema's name
	quoted  string // ... as an SQL identifier
	notices string // NOTIFY channel of notices
	events  string // NOTIFY channel of events
	origin  string // tags this Store's notices, so its listener skips them
	lockKey int32  // first key of the advisory locks on jobs in this schema
	log     *slog.Logger

	queries sync.Map // SQL with {schema} → SQL for this schema

	lis       *listener
	later     *notifier
	closeOnce sync.Once
}

// sql returns query with {schema} replaced by the schema's quoted name.
func (s *Store) sql(query string) string {
	if q, ok := s.queries.Load(query); ok {
		return q.(string)
	}
	q := strings.ReplaceAll(query, "{schema}", s.quoted)
	s.queries.Store(query, q)
	return q
}

// lockKey is the first key of advisory locks taken in schema, so that
// schemas sharing a database do not wait for each other's locks.
func lockKey(schema string) int32 {
	h := fnv.New32a()
	h.Write([]byte("sundial/" + schema))
	return int32(h.Sum32())
}

// send runs the batch that build queues as one implicit transaction (one
// round trip): its statements, and the notices it queues, all take effect
// or none does. A batch PostgreSQL aborted to break a deadlock is built
// and sent again, up to three times in all, so build's callbacks must
// reset what they collect.
func (s *Store) send(ctx context.Context, op string, build func(b *pgx.Batch)) error {
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return s.fail(ctx, op, err)
		}
		b := &pgx.Batch{}
		build(b)
		err := s.pool.SendBatch(ctx, b).Close()
		if err == nil || attempt == 3 || !retryable(err) {
			return s.fail(ctx, op, err)
		}
	}
}

// txn is one transaction on one pooled connection, sent as batches: the
// first carries BEGIN and the last COMMIT, so a transaction costs no round
// trip of its own. Transactions are READ COMMITTED: each statement sees
// what committed before it started.
type txn struct {
	ctx   context.Context
	conn  *pgxpool.Conn
	begun bool
	ended bool
}

// send sends b in the transaction and runs its queued callbacks.
func (t *txn) send(b *pgx.Batch) error { return t.sendBatch(b, false) }

// commit sends b and then COMMIT.
func (t *txn) commit(b *pgx.Batch) error { return t.sendBatch(b, true) }

func (t *txn) sendBatch(b *pgx.Batch, commit bool) error {
	if t.ended {
		return errors.New("transaction already ended")
	}
	q := b.QueuedQueries
	if !t.begun {
		q = append([]*pgx.QueuedQuery{{SQL: "BEGIN"}}, q...)
		t.begun = true
	}
	if commit {
		c := &pgx.QueuedQuery{SQL: "COMMIT"}
		c.Exec(func(tag pgconn.CommandTag) error {
			if tag.String() != "COMMIT" {
				return errors.New("commit rolled back")
			}
			return nil
		})
		q = append(q, c)
		t.ended = true
	}
	return t.conn.SendBatch(t.ctx, &pgx.Batch{QueuedQueries: q}).Close()
}

// rollback ends a transaction that failed. If that fails too, the pool
// drops the connection on release, since it is still in a transaction.
func (t *txn) rollback() {
	if !t.begun || t.conn.Conn().PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), rollbackTimeout)
	defer cancel()
	_, _ = t.conn.Exec(ctx, "ROLLBACK")
}

// rollbackTimeout bounds a rollback on a connection that may be dead.
const rollbackTimeout = 5 * time.Second

// errRace asks inTx to run its function again: a row it needed changed
// between two of its statements.
var errRace = errors.New("concurrent change; try again")

// inTx runs fn in a transaction and commits it unless fn did, or rolls it
// back when fn fails. A transaction that PostgreSQL aborted to break a
// deadlock, or that fn found raced with another, runs again (fn must reset
// what it computes), up to three times in all.
func (s *Store) inTx(ctx context.Context, op string, fn func(*txn) error) error {
	for attempt := 1; ; attempt++ {
		err := s.tryTx(ctx, fn)
		if err == nil || attempt == 3 || !retryable(err) {
			return s.fail(ctx, op, err)
		}
	}
}

func (s *Store) tryTx(ctx context.Context, fn func(*txn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	t := &txn{ctx: ctx, conn: conn}
	err = fn(t)
	if err == nil && t.begun && !t.ended {
		err = t.commit(&pgx.Batch{})
	}
	if err != nil {
		t.rollback()
	}
	return err
}

// retryable reports whether a transaction that failed with err may simply
// run again: a deadlock PostgreSQL broke, a serialization failure, or a
// race fn noticed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "40P01" || pe.Code == "40001"
	}
	return errors.Is(err, errRace)
}
