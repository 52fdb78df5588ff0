package pgstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sundialhq/sundial"
)

// DefaultSchema is the schema the tables live in when Config.Schema is
// empty.
const DefaultSchema = "sundial"

// Config configures a Store. Exactly one of URL and Pool is required; the
// other fields have useful zero values.
type Config struct {
	// URL is a PostgreSQL connection string ("postgres://user@host/db" or
	// "host=... dbname=..."), for a pool that the Store opens and Close
	// closes.
	URL string
	// Pool is an existing pool to use instead of URL. The Store does not
	// close it. Its connections must reach the server directly, or through
	// a pooler in session mode: notices need a LISTEN session.
	Pool *pgxpool.Pool
	// Schema names the schema that holds the tables, created if missing:
	// lowercase letters, digits and underscores, starting with a letter or
	// an underscore, at most 40 bytes. Empty means "sundial". Several
	// clusters can share a database in schemas of their own.
	Schema string
	// NoMigrate skips Migrate in New. New then fails with ErrSchema unless
	// the schema is already current, for deployments that migrate in a
	// separate step (sundial migrate).
	NoMigrate bool
	// MaxConns bounds the pool opened from URL. Zero means pgx's default
	// (the greater of 4 and the number of CPUs). It must be zero with Pool.
	MaxConns int
	// Logger receives the notice listener's reports (connection lost,
	// reconnected). Nil discards them.
	Logger *slog.Logger
}

// schemaName is the form a schema name must have.
var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,39}$`)

// check refuses bad input with a *sundial.FieldError naming the field.
func (c Config) check() error {
	switch {
	case c.URL == "" && c.Pool == nil:
		return invalid("url", "missing (a connection string, or set Pool)")
	case c.URL != "" && c.Pool != nil:
		return invalid("url", "set together with pool; give one of them")
	case c.Schema != "" && !schemaName.MatchString(c.Schema):
		return invalid("schema", "%q is not lowercase letters, digits and underscores, starting with a letter or underscore, at most 40 bytes", c.Schema)
	case c.MaxConns < 0:
		return invalid("max_conns", "%d is negative", c.MaxConns)
	case c.MaxConns > 0 && c.Pool != nil:
		return invalid("max_conns", "applies to a pool opened from url, not to pool")
	}
	return nil
}

// poolConfig parses URL into a pool configuration.
func (c Config) poolConfig() (*pgxpool.Config, error) {
	pc, err := pgxpool.ParseConfig(c.URL)
	if err != nil {
		// pgx's message shows the string with its password masked.
		return nil, invalid("url", "%v", err)
	}
	if c.MaxConns > 0 {
		pc.MaxConns = int32(min(c.MaxConns, 1<<30))
	}
	return pc, nil
}

// New opens a Store on the database that cfg names and, unless
// cfg.NoMigrate, creates or upgrades its schema. It fails with a
// *sundial.FieldError (matching sundial.ErrInvalid) for a bad Config, with
// ErrSchema when the schema is not the one this build needs, and with an
// error starting "pgstore:" when the server cannot be reached.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	pool, owned := cfg.Pool, false
	if pool == nil {
		pc, err := cfg.poolConfig()
		if err != nil {
			return nil, err
		}
		if pool, err = pgxpool.NewWithConfig(ctx, pc); err != nil {
			return nil, fmt.Errorf("pgstore: open pool: %s", err)
		}
		owned = true
	}
	s := newStore(pool, owned, cfg)
	if err := s.init(ctx, cfg.NoMigrate); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// newStore builds a Store on pool; nothing is sent to the server yet.
func newStore(pool *pgxpool.Pool, owned bool, cfg Config) *Store {
	schema := cfg.Schema
	if schema == "" {
		schema = DefaultSchema
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Store{pool: pool, owned: owned, schema: schema, quoted: pgx.Identifier{schema}.Sanitize(),
		origin: newOrigin(), lockKey: lockKey(schema), log: log}
	s.notices = schema + ".notices"
	s.events = schema + ".events"
	s.lis = newListener(s)
	s.later = newNotifier(s)
	return s
}

// init checks or migrates the schema.
func (s *Store) init(ctx context.Context, noMigrate bool) error {
	if noMigrate {
		return s.checkSchema(ctx)
	}
	return s.Migrate(ctx)
}

// Close sends the notices still queued for the other Stores (waiting at
// most 5s), stops the notice listener and, when the Store opened its pool
// from Config.URL, closes the pool, after which calls fail. A pool passed
// in Config.Pool stays open for its owner. Close always returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.later.close()
		s.lis.stop()
		if s.owned {
			s.pool.Close()
		}
	})
	return nil
}

var (
	_ sundial.Store        = (*Store)(nil)
	_ sundial.Notifier     = (*Store)(nil)
	_ sundial.NoticeHealth = (*Store)(nil)
	_ sundial.RunFinisher  = (*Store)(nil)
	_ sundial.JobAdder     = (*Store)(nil)
	_ sundial.StoreClock   = (*Store)(nil)
	_ sundial.EventBus     = (*Store)(nil)
)

// Schema returns the name of the schema that holds the Store's tables.
func (s *Store) Schema() string { return s.schema }
