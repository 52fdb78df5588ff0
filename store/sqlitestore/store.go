package sqlitestore

import (
	"context"
	"database/sql"
	"sync"

	"github.com/sundialhq/sundial"
)

// Store is a sundial.Store on an SQLite database. It is safe for
// concurrent use, and several Stores (in one process or many) may share a
// file: they arbitrate through SQLite's locks. It implements
// sundial.Notifier for changes made through this Store value only.
type Store struct {
	db   *sql.DB
	path string

	writeMu sync.Mutex // one write transaction at a time in this Store

	prepared map[string]*sql.Stmt // the hot queries, by text; read-only once open

	subMu  sync.Mutex
	subs   map[int]func(sundial.Notice)
	subSeq int
}

var (
	_ sundial.Store       = (*Store)(nil)
	_ sundial.Notifier    = (*Store)(nil)
	_ sundial.RunFinisher = (*Store)(nil)
	_ sundial.JobAdder    = (*Store)(nil)
)

// write runs fn in a write transaction and commits it. In this Store,
// writes take turns on a mutex; against other processes, BEGIN IMMEDIATE
// waits up to the busy timeout for SQLite's write lock.
func (s *Store) write(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return s.fail(ctx, op, err)
	}
	return s.fail(ctx, op, tx.Commit())
}

// Subscribe calls fn for every notice of a change made through this Store
// until the returned function is called. fn runs after the change is
// committed, outside any lock, on the goroutine that made the change; it
// must not block. Changes made by other processes sharing the file are not
// noticed: their schedulers poll.
func (s *Store) Subscribe(fn func(sundial.Notice)) (unsubscribe func()) {
	s.subMu.Lock()
	defer s.subMu.Unlock()
	s.subSeq++
	id := s.subSeq
	s.subs[id] = fn
	return func() {
		s.subMu.Lock()
		delete(s.subs, id)
		s.subMu.Unlock()
	}
}

// publish delivers notices to the subscribers; the caller holds no lock.
func (s *Store) publish(notices ...sundial.Notice) {
	if len(notices) == 0 {
		return
	}
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
