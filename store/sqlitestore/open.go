package sqlitestore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/sundialhq/sundial"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Memory is the Path of a private in-memory database, gone at Close.
const Memory = ":memory:"

// Config configures a Store. Path is required; the other fields have
// useful zero values.
type Config struct {
	// Path is the database file, created if missing, or Memory
	// (":memory:") for a private in-memory database that lives until
	// Close. A path starting with "file:" is read as an SQLite URI,
	// without query parameters ("file::memory:" is Memory too).
	Path string
	// NoMigrate skips Migrate in New. New then fails with ErrSchema unless
	// the schema is already current, for deployments that migrate in a
	// separate step (sundial migrate).
	NoMigrate bool
	// BusyTimeout is how long a statement waits for a lock that another
	// process holds before it fails. Zero means 5s.
	BusyTimeout time.Duration
	// MaxConns bounds the open connections to a file: one writes at a
	// time, the others read. Zero means 4. An in-memory database always
	// has exactly one.
	MaxConns int
}

// check refuses bad input with a *sundial.FieldError naming the field.
func (c Config) check() error {
	switch {
	case c.Path == "":
		return &sundial.FieldError{Field: "path", Problem: "missing (a file name, or \":memory:\")"}
	case strings.ContainsAny(c.Path, "?\x00"):
		return &sundial.FieldError{Field: "path", Problem: fmt.Sprintf("%q contains '?' or a NUL byte", c.Path)}
	case c.BusyTimeout < 0:
		return &sundial.FieldError{Field: "busy_timeout", Problem: fmt.Sprintf("%v is negative", c.BusyTimeout)}
	case c.MaxConns < 0:
		return &sundial.FieldError{Field: "max_conns", Problem: fmt.Sprintf("%d is negative", c.MaxConns)}
	}
	return nil
}

// dsn is the driver's data source name: the path, then the pragmas every
// connection runs. Transactions begin IMMEDIATE, taking the write lock at
// once, so two processes never both read and then race to write; they
// wait for it up to the busy timeout.
func (c Config) dsn() string {
	return fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=synchronous(FULL)&_txlock=immediate",
		c.Path, c.busyTimeout().Milliseconds())
}

// busyTimeout is BusyTimeout with its default applied.
func (c Config) busyTimeout() time.Duration {
	if c.BusyTimeout == 0 {
		return 5 * time.Second
	}
	return c.BusyTimeout
}

// conns is the connection limit. Every connection to ":memory:" opens a
// new database, so an in-memory Store keeps one (database/sql keeps an idle
// connection open for good unless told otherwise).
func (c Config) conns() int {
	switch {
	case c.memory():
		return 1
	case c.MaxConns == 0:
		return 4
	}
	return c.MaxConns
}

// memory reports whether Path names an in-memory database.
func (c Config) memory() bool { return strings.TrimPrefix(c.Path, "file:") == Memory }

// New opens the database at cfg.Path and, unless cfg.NoMigrate, creates or
// upgrades its schema. It fails with a *sundial.FieldError (matching
// sundial.ErrInvalid) for a bad Config, with ErrSchema when the schema is
// not the one this build needs, and with an error naming the path when the
// file cannot be opened as a database.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", cfg.dsn())
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %s", cfg.Path, err)
	}
	db.SetMaxOpenConns(cfg.conns())
	s := &Store{db: db, path: cfg.Path, subs: map[int]func(sundial.Notice){}}
	if err := s.init(ctx, cfg); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.prepareHot(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// init prepares a newly opened database: write-ahead logging for a file,
// then the schema.
func (s *Store) init(ctx context.Context, cfg Config) error {
	if !cfg.memory() {
		if err := s.useWAL(ctx, cfg.busyTimeout()); err != nil {
			return err
		}
	}
	if cfg.NoMigrate {
		return s.checkSchema(ctx)
	}
	return s.Migrate(ctx)
}

// useWAL switches the file to write-ahead logging, so that readers and
// the writer do not block each other. The file keeps the mode, so the
// first Store to open it switches it. SQLite refuses the switch at once,
// without waiting, while another connection holds a lock, so useWAL
// retries it until the busy timeout.
func (s *Store) useWAL(ctx context.Context, wait time.Duration) error {
	deadline := time.Now().Add(wait)
	for delay := time.Millisecond; ; delay = min(2*delay, 100*time.Millisecond) {
		var mode string
		err := s.db.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode)
		if err == nil || !isBusy(err) || time.Now().Add(delay).After(deadline) {
			return s.fail(ctx, "open "+s.path, err)
		}
		timer := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			timer.Stop()
			return s.fail(ctx, "open "+s.path, ctx.Err())
		case <-timer.C:
		}
	}
}

// Close closes the database. Calls after Close fail.
func (s *Store) Close() error {
	s.closePrepared()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("sqlitestore: close %s: %s", s.path, err)
	}
	return nil
}
