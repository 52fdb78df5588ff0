package sqlitestore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/sqlitestore"
	"github.com/sundialhq/sundial/store/storetest"
	"modernc.org/sqlite"
)

// TestMain fails the tests if a goroutine outlives them: every Store is
// closed.
// A test binary started with SUNDIAL_SQLITE_CHILD set is one of the
// processes of TestProcessesExactlyOnce instead.
func TestMain(m *testing.M) {
	if path := os.Getenv("SUNDIAL_SQLITE_CHILD"); path != "" {
		os.Exit(runChild(path))
	}
	goleak.VerifyTestMain(m)
}

// base is the tests' "now".
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// open returns a store on cfg, closed when the test ends.
func open(t testing.TB, cfg sqlitestore.Config) *sqlitestore.Store {
	t.Helper()
	s, err := sqlitestore.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// tempPath returns a database file name in the test's temporary directory.
func tempPath(t testing.TB) string { return filepath.Join(t.TempDir(), "sundial.db") }

func TestConformanceFile(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sundial.Store {
		return open(t, sqlitestore.Config{Path: tempPath(t)})
	})
}

func TestConformanceMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sundial.Store {
		return open(t, sqlitestore.Config{Path: sqlitestore.Memory})
	})
}

// TestMemoryIsOneDatabase checks that every call on an in-memory store
// sees the same database, however many run at once.
func TestMemoryIsOneDatabase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, path := range []string{sqlitestore.Memory, "file::memory:"} {
		s := open(t, sqlitestore.Config{Path: path})
		j := &sundial.Job{ID: "a", Task: "noop", Trigger: sundial.MustEvery(time.Minute, nil)}
		if _, err := s.AddJob(ctx, j, sundial.ConflictError, base); err != nil {
			t.Fatal(err)
		}
		errs := make(chan error, 8)
		for range 8 {
			go func() { errs <- second(s.GetJob(ctx, "a")) }()
		}
		for range 8 {
			if err := <-errs; err != nil {
				t.Errorf("%s: GetJob: %v", path, err)
			}
		}
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tt := range []struct {
		cfg   sqlitestore.Config
		field string
	}{
		{sqlitestore.Config{}, "path"},
		{sqlitestore.Config{Path: "x.db?mode=ro"}, "path"},
		{sqlitestore.Config{Path: "x\x00.db"}, "path"},
		{sqlitestore.Config{Path: "x.db", BusyTimeout: -time.Second}, "busy_timeout"},
		{sqlitestore.Config{Path: "x.db", MaxConns: -1}, "max_conns"},
	} {
		s, err := sqlitestore.New(ctx, tt.cfg)
		var fe *sundial.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, sundial.ErrInvalid) {
			t.Errorf("New(%+v) = %v, %v; want a *FieldError on %q", tt.cfg, s, err, tt.field)
		}
	}
}

func TestNewFailsOnUnusableFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notDB := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notDB, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"missing directory": filepath.Join(dir, "no", "such", "dir", "x.db"),
		"a directory":       dir,
		"not a database":    notDB,
	} {
		s, err := sqlitestore.New(context.Background(), sqlitestore.Config{Path: path})
		if err == nil {
			s.Close()
			t.Errorf("%s: New(%s) succeeded", name, path)
			continue
		}
		var driverErr *sqlite.Error
		if !strings.HasPrefix(err.Error(), "sqlitestore: ") || errors.Is(err, sundial.ErrInvalid) || errors.As(err, &driverErr) {
			t.Errorf("%s: New(%s) = %v; want a sqlitestore error, not the driver's", name, path, err)
		}
	}
}
