package pgstore_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/pgstore"
	"github.com/sundialhq/sundial/store/storetest"
)

// TestConformance runs the store suite, each test on a schema of its own.
// The suite passes fixed times in 2024: leases and heartbeats are checked
// against the lesser of those and the server's clock, which is then the
// times passed.
func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sundial.Store { return openStore(t) })
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, "postgres://nobody@127.0.0.1:1/none") // connects lazily: never here
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const url = "postgres://u@127.0.0.1:1/db"
	for _, tt := range []struct {
		cfg   pgstore.Config
		field string
	}{
		{pgstore.Config{}, "url"},
		{pgstore.Config{URL: url, Pool: pool}, "url"},
		{pgstore.Config{URL: "postgres://u@[::1/db"}, "url"},
		{pgstore.Config{URL: url, Schema: "Sundial"}, "schema"},
		{pgstore.Config{URL: url, Schema: "1st"}, "schema"},
		{pgstore.Config{URL: url, Schema: `a"b`}, "schema"},
		{pgstore.Config{URL: url, Schema: "public.jobs"}, "schema"},
		{pgstore.Config{URL: url, Schema: strings.Repeat("s", 41)}, "schema"},
		{pgstore.Config{URL: url, MaxConns: -1}, "max_conns"},
		{pgstore.Config{Pool: pool, MaxConns: 4}, "max_conns"},
	} {
		s, err := pgstore.New(ctx, tt.cfg)
		var fe *sundial.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, sundial.ErrInvalid) {
			t.Errorf("New(%+v) = %v, %v; want a *FieldError on %q", tt.cfg, s, err, tt.field)
		}
	}
}

// TestNewFailsOnUnreachableServer checks that a server New cannot reach
// fails New with a pgstore error that is not ErrInvalid (the Config was
// fine) and carries no pgx type.
func TestNewFailsOnUnreachableServer(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := pgstore.New(ctx, pgstore.Config{URL: "postgres://u@" + addr + "/db?connect_timeout=5"})
	var ce *pgconn.ConnectError
	if err == nil {
		s.Close()
		t.Fatal("New succeeded with no server")
	}
	if !strings.HasPrefix(err.Error(), "pgstore: ") || errors.Is(err, sundial.ErrInvalid) || errors.As(err, &ce) {
		t.Errorf("New = %v (%T); want a pgstore error, not ErrInvalid, not pgx's", err, err)
	}
}

// TestExistingPool checks a Store on a pool passed in Config.Pool: it
// works, and Close leaves the pool open for its owner.
func TestExistingPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	pool, err := pgxpool.New(ctx, db.url)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	s, err := pgstore.New(ctx, pgstore.Config{Pool: pool, Schema: db.schema})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddJob(ctx, job("a", base), sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	s.Close()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM `+db.schema+`.jobs`).Scan(&n); err != nil || n != 1 {
		t.Errorf("after Close, the pool reads %d jobs, %v; want 1 and a pool still open", n, err)
	}
}

// TestMigrations checks NoMigrate, a second Migrate, and a schema newer
// than this build.
func TestMigrations(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := newDB(t)
	cfg := db.config()
	cfg.NoMigrate = true
	if s, err := pgstore.New(ctx, cfg); !errors.Is(err, pgstore.ErrSchema) {
		t.Fatalf("New(NoMigrate) on an empty schema = %v, %v; want ErrSchema", s, err)
	}
	s := db.open(t)
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate on a current schema: %v", err)
	}
	openConfig(t, cfg) // NoMigrate on a current schema
	if _, err := admin(t).Exec(ctx, `INSERT INTO `+db.schema+`.schema_version (version) VALUES (99)`); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); !errors.Is(err, pgstore.ErrSchema) || !strings.Contains(err.Error(), "newer release") {
		t.Errorf("Migrate on a newer schema = %v, want ErrSchema", err)
	}
	if s, err := pgstore.New(ctx, cfg); !errors.Is(err, pgstore.ErrSchema) {
		t.Errorf("New(NoMigrate) on a newer schema = %v, %v; want ErrSchema", s, err)
	}
}

// TestCancelledContext checks that every kind of call gives up on a
// cancelled context with an error that matches it.
func TestCancelledContext(t *testing.T) {
	t.Parallel()
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for name, err := range map[string]error{
		"GetJob":        second(s.GetJob(ctx, "a")),
		"ListJobs":      second(s.ListJobs(ctx, sundial.JobFilter{})),
		"NextFireTime":  second(s.NextFireTime(ctx)),
		"ClaimDueJobs":  second(s.ClaimDueJobs(ctx, sundial.JobClaim{Node: "n", Now: base, Horizon: base})),
		"CommitFires":   second(s.CommitFires(ctx, nil, base)),
		"ClaimRuns":     second(s.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Limit: map[string]int{"default": 1}})),
		"ListRuns":      second(s.ListRuns(ctx, sundial.RunFilter{})),
		"RecoverRuns":   second(s.RecoverRuns(ctx, base)),
		"RemoveJob":     s.RemoveJob(ctx, "a"),
		"Migrate":       s.Migrate(ctx),
		"StoreNow":      second(s.StoreNow(ctx)),
		"PublishEvents": s.PublishEvents(ctx, []byte(`[]`)),
	} {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", name, err)
		}
	}
}

// TestTimesKeepNanoseconds checks that times come back to the
// nanosecond, and that times the store cannot keep are refused.
func TestTimesKeepNanoseconds(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	at := base.Add(123456789 * time.Nanosecond)
	j := job("a", at)
	j.Trigger = sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: at})
	if _, err := s.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetJob(ctx, "a")
	if err != nil || !got.NextFire.Equal(at) {
		t.Fatalf("GetJob = %v, %v; want next fire %s", got.NextFire, err, at)
	}
	// A trigger starting at nanoseconds fires once per instant: the stored
	// next fire must be exactly the one computed, or it fires again.
	if next, _ := got.Trigger.Next(got.NextFire); !next.Equal(at.Add(time.Second)) {
		t.Errorf("next after the stored fire = %s, want %s", next, at.Add(time.Second))
	}
	r := &sundial.Run{ID: "r", JobID: "a", Scheduled: at, Due: at.Add(time.Nanosecond), Attempt: 1, State: sundial.RunPending}
	if _, err := s.AddRuns(ctx, []*sundial.Run{r}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRun(ctx, "r"); err != nil || !got.Scheduled.Equal(r.Scheduled) || !got.Due.Equal(r.Due) || !got.Created.IsZero() {
		t.Errorf("GetRun = %+v, %v; want the times as given", got, err)
	}
	far := time.Date(2300, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := s.AddJob(ctx, job("far", far), sundial.ConflictError, base); !errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("AddJob with a next fire in 2300: %v, want ErrInvalid", err)
	}
	r.ID, r.Scheduled = "far", far
	if _, err := s.AddRuns(ctx, []*sundial.Run{r}); !errors.Is(err, sundial.ErrInvalid) {
		t.Errorf("AddRuns with a run in 2300: %v, want ErrInvalid", err)
	}
}

// TestFinishStoresAnyText checks that a task's error holding a NUL byte
// and invalid UTF-8, which PostgreSQL's text refuses, is still recorded.
func TestFinishStoresAnyText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	if _, err := s.AddRuns(ctx, []*sundial.Run{{ID: "r", JobID: "a", Scheduled: base, Attempt: 1, State: sundial.RunPending}}); err != nil {
		t.Fatal(err)
	}
	runs, err := s.ClaimRuns(ctx, sundial.RunClaim{Node: "n", Now: base, Horizon: base, Limit: map[string]int{"default": 1}})
	if err != nil || len(runs) != 1 {
		t.Fatalf("ClaimRuns = %v, %v", runs, err)
	}
	done := runs[0].Clone()
	done.State, done.Finished, done.Error = sundial.RunFailed, base, "exit 1: \x00\xff\xfe"
	if err := s.FinishRun(ctx, done, nil); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetRun(ctx, "r"); err != nil || got.State != sundial.RunFailed || got.Error != "exit 1: \uFFFD\uFFFD" {
		t.Errorf("GetRun = %q, %v; want the error with U+FFFD for the bytes text cannot hold", got.Error, err)
	}
}

// TestAddJobs checks the bulk add: all or nothing, each job under the
// policy in order, a bad job named by its index.
func TestAddJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t)
	bad := []*sundial.Job{job("a", base), {ID: "b", Trigger: sundial.MustEvery(time.Minute, nil)}}
	var fe *sundial.FieldError
	if _, err := s.AddJobs(ctx, bad, sundial.ConflictError, base); !errors.As(err, &fe) || fe.Field != "jobs[1].task" {
		t.Errorf("AddJobs with a bad job = %v, want a *FieldError on jobs[1].task", err)
	}
	if _, err := s.AddJobs(ctx, []*sundial.Job{job("a", base), job("a", base)}, sundial.ConflictError, base); !errors.Is(err, sundial.ErrConflict) {
		t.Errorf("AddJobs with an ID twice under ConflictError = %v, want ErrConflict", err)
	}
	if list, _ := s.ListJobs(ctx, sundial.JobFilter{}); len(list) != 0 {
		t.Fatalf("a refused AddJobs stored %d jobs", len(list))
	}
	renamed := job("a", time.Time{})
	renamed.Name = "second"
	got, err := s.AddJobs(ctx, []*sundial.Job{job("a", base), job("b", base), renamed}, sundial.ConflictReplace, base)
	if err != nil || len(got) != 3 || got[2].Version != 2 || got[2].Name != "second" || !got[2].NextFire.Equal(base) {
		t.Fatalf("AddJobs = %+v, %v; want a replaced by its second occurrence, keeping its next fire", got, err)
	}
	if a, err := s.GetJob(ctx, "a"); err != nil || a.Name != "second" || a.Version != 2 {
		t.Errorf("GetJob(a) = %+v, %v; want version 2", a, err)
	}
	kept, err := s.AddJobs(ctx, []*sundial.Job{job("b", base.Add(time.Hour))}, sundial.ConflictKeepExisting, base)
	if err != nil || !kept[0].NextFire.Equal(base) || kept[0].Version != 1 {
		t.Errorf("AddJobs(keep existing) = %+v, %v; want the stored b", kept, err)
	}
}
