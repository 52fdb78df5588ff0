package sqlitestore

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// setup opens a store on a new file and returns it with the file's path.
func setup(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sundial.db")
	s, err := New(context.Background(), Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// count returns the result of a count(*) query.
func count(t *testing.T, s *Store, query string) int {
	t.Helper()
	var n int
	if err := s.db.QueryRow(query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := setup(t)
	j := &sundial.Job{ID: "a", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil), NextFire: time.Now()}
	if _, err := s.AddJob(ctx, j, sundial.ConflictError, time.Now()); err != nil {
		t.Fatal(err)
	}
	const objects = `SELECT count(*) FROM sqlite_master`
	before := count(t, s, objects)
	for range 2 {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("Migrate on a current schema: %v", err)
		}
	}
	if got := count(t, s, `SELECT count(*) FROM schema_version`); got != schemaVersion {
		t.Errorf("schema_version has %d rows, want %d", got, schemaVersion)
	}
	if after := count(t, s, objects); after != before {
		t.Errorf("Migrate changed the schema: %d objects, then %d", before, after)
	}
	if _, err := s.GetJob(ctx, "a"); err != nil {
		t.Errorf("Migrate lost a job: %v", err)
	}
}

func TestNoMigrateNeedsASchema(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	_, err := New(ctx, Config{Path: path, NoMigrate: true})
	if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "no sundial schema") {
		t.Fatalf("New(NoMigrate) on an empty file = %v; want ErrSchema saying there is no schema", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("the error does not name the file: %v", err)
	}
	s, err := New(ctx, Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = New(ctx, Config{Path: path, NoMigrate: true})
	if err != nil {
		t.Fatalf("New(NoMigrate) on a migrated file: %v", err)
	}
	s.Close()
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := setup(t)
	if _, err := s.db.Exec(`INSERT INTO schema_version (version, applied) VALUES (?, '')`, schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	for _, noMigrate := range []bool{false, true} {
		_, err := New(ctx, Config{Path: path, NoMigrate: noMigrate})
		if !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "newer release") {
			t.Errorf("New(NoMigrate: %v) on a newer schema = %v; want ErrSchema", noMigrate, err)
		}
	}
	if err := s.Migrate(ctx); !errors.Is(err, ErrSchema) {
		t.Errorf("Migrate on a newer schema = %v; want ErrSchema", err)
	}
}

// TestRunStateNumbers pins the sundial.RunState values the SQL names:
// 1 pending, 2 running, and final from 3 on.
func TestRunStateNumbers(t *testing.T) {
	t.Parallel()
	if sundial.RunPending != 1 || sundial.RunRunning != 2 || !sundial.RunState(3).Final() || sundial.RunState(2).Final() {
		t.Fatal("sundial.RunState numbering changed: update the SQL and add a migration")
	}
}

// TestQueriesUseIndexes checks that the schedule and worker loops' queries
// read through their indexes, not the whole table.
func TestQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	s, _ := setup(t)
	for _, tt := range []struct {
		query, index string
		args         []any
	}{
		{dueSQL, "jobs_due", []any{"", 10}},
		{pendingSQL, "runs_pending", []any{"default", "", "", 0, 10}},
		{`SELECT min(claim_until) FROM jobs WHERE claim_until IS NOT NULL`, "jobs_claimed", nil},
		{`SELECT count(*) FROM runs WHERE state = 1 AND job_id IN ('a', 'b')`, "runs_pending_job", nil},
		{`SELECT id FROM runs WHERE state = 2 AND job_id IN ('a', 'b') ORDER BY job_id, fence`, "runs_running", nil},
	} {
		query, index := tt.query, tt.index
		rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+query, tt.args...)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		t.Logf("%s: %s", index, strings.Join(plan, "; "))
		if got := strings.Join(plan, "; "); !strings.Contains(got, "INDEX "+index) {
			t.Errorf("%s\nplan: %s\nwant it to use %s", query, got, index)
		}
	}
}
