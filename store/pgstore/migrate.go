package pgstore

import (
	"context"
	"embed"
	"fmt"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// migrationFiles are the schema's versions, applied in order:
// NNNN_name.sql, where NNNN is the version the file upgrades to, and
// {schema} stands for the schema's quoted name. A release adds files and
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
			panic("pgstore: migration " + e.Name() + " is not version " + strconv.Itoa(i+1))
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

// migrateLockKey is the first key of the advisory lock that serializes
// migrations of one schema.
const migrateLockKey = 0x73756e64 // "sund"

// Migrate creates the schema or upgrades it to the version this build
// needs, applying the missing migrations in one transaction, so a failure
// changes nothing; Stores opening one schema at once wait for each other
// (an advisory lock) and apply each migration once. On a current schema it
// changes nothing. It fails with ErrSchema when the schema is newer than
// this build's.
func (s *Store) Migrate(ctx context.Context) error {
	return s.inTx(ctx, "migrate "+s.schema, func(t *txn) error {
		b := &pgx.Batch{}
		b.Queue(`SELECT pg_advisory_xact_lock($1, $2)`, migrateLockKey, s.lockKey)
		b.Queue(s.sql(`CREATE SCHEMA IF NOT EXISTS {schema}`))
		b.Queue(s.sql(`CREATE TABLE IF NOT EXISTS {schema}.schema_version (
			version integer PRIMARY KEY,
			applied timestamptz NOT NULL DEFAULT now())`))
		if err := t.send(b); err != nil {
			return err
		}
		// A statement is prepared before the batch runs, so the table
		// must exist before a batch reads it.
		var have int
		b = &pgx.Batch{}
		b.Queue(s.sql(`SELECT coalesce(max(version), 0) FROM {schema}.schema_version`)).QueryRow(func(row pgx.Row) error {
			return row.Scan(&have)
		})
		if err := t.send(b); err != nil {
			return err
		}
		if have > schemaVersion {
			return s.schemaError(have)
		}
		for _, m := range migrations[have:] {
			if err := s.apply(t, m); err != nil {
				return err
			}
		}
		return nil
	})
}

// apply runs one migration in t and records it.
func (s *Store) apply(t *txn, m migration) error {
	if _, err := t.conn.Exec(t.ctx, s.sql(m.sql)); err != nil {
		return fmt.Errorf("%s: %w", m.name, err)
	}
	_, err := t.conn.Exec(t.ctx, s.sql(`INSERT INTO {schema}.schema_version (version) VALUES ($1)`), m.version)
	return err
}

// checkSchema fails with ErrSchema unless the schema is current.
func (s *Store) checkSchema(ctx context.Context) error {
	var exists bool
	var v int
	err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, s.quoted+".schema_version").Scan(&exists)
	if err == nil && exists {
		err = s.pool.QueryRow(ctx, s.sql(`SELECT coalesce(max(version), 0) FROM {schema}.schema_version`)).Scan(&v)
	}
	if err != nil {
		return s.fail(ctx, "read schema version of "+s.schema, err)
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
	return &storeError{kind: ErrSchema, msg: fmt.Sprintf("pgstore: schema %s: version %d, this build needs %d: %s",
		s.schema, have, schemaVersion, why)}
}
