package sqlitestore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"path"
	"strconv"
	"strings"
	"time"
)

// migrationFiles are the schema's versions, applied in order: NNNN_name.sql,
// where NNNN is the version the file upgrades to. A release adds files and
// never edits one that shipped.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations reads the embedded files, in version order. A malformed name
// is a bug in this package, so it panics.
var migrations = func() []migration {
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil {
		panic(err)
	}
	out := make([]migration, len(entries))
	for i, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if err != nil || v != i+1 {
			panic("sqlitestore: migration " + e.Name() + " is not version " + strconv.Itoa(i+1))
		}
		b, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			panic(err)
		}
		out[i] = migration{version: v, name: e.Name(), sql: string(b)}
	}
	return out
}()

// schemaVersion is the schema version this build of the store needs.
var schemaVersion = len(migrations)

const createVersionTable = `CREATE TABLE IF NOT EXISTS schema_version (
	version INTEGER PRIMARY KEY,
	applied TEXT NOT NULL
)`

// Migrate creates the schema or upgrades it to the version this build
// needs, applying the missing migrations in one transaction, so a failure
// changes nothing and processes opening the same file at once apply each
// migration once. On a current schema it changes nothing. It fails with
// ErrSchema when the database's schema is newer than this build's.
func (s *Store) Migrate(ctx context.Context) error {
	return s.write(ctx, "migrate", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, createVersionTable); err != nil {
			return err
		}
		have, err := versionOf(ctx, tx)
		if err != nil {
			return err
		}
		if have > schemaVersion {
			return s.schemaError(have)
		}
		for _, m := range migrations[have:] {
			if err := apply(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
}

func apply(ctx context.Context, tx *sql.Tx, m migration) error {
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("%s: %w", m.name, err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, applied) VALUES (?, ?)`,
		m.version, timeText(time.Now()))
	return err
}

// versionOf returns the database's schema version; 0 for an empty one.
func versionOf(ctx context.Context, q querier) (int, error) {
	var tables int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).Scan(&tables)
	if err != nil || tables == 0 {
		return 0, err
	}
	var v int
	err = q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v)
	return v, err
}

// checkSchema fails with ErrSchema unless the schema is current.
func (s *Store) checkSchema(ctx context.Context) error {
	v, err := versionOf(ctx, s.db)
	if err != nil {
		return s.fail(ctx, "read schema version of "+s.path, err)
	}
	if v != schemaVersion {
		return s.schemaError(v)
	}
	return nil
}

func (s *Store) schemaError(have int) error {
	why := "it was written by a newer release of sundial"
	switch {
	case have == 0:
		why = "it has no sundial schema yet; call Migrate, or open it without NoMigrate"
	case have < schemaVersion:
		why = "call Migrate, or open it without NoMigrate"
	}
	return &storeError{kind: ErrSchema, msg: fmt.Sprintf("sqlitestore: %s: schema version %d, this build needs %d: %s",
		s.path, have, schemaVersion, why)}
}

// querier is what *sql.DB and *sql.Tx share for reading.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}
