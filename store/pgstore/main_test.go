package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/goleak"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/store/pgstore"
	"github.com/sundialhq/sundial/store/storetest"
)

// TestMain fails the tests if a goroutine outlives them: every Store, and
// its listener, is closed. A test binary started as one of the scheduler
// processes of TestProcessesKillOne is that process instead.
func TestMain(m *testing.M) {
	if code, isChild := storetest.ProcessesChild(openChild); isChild {
		os.Exit(code)
	}
	skipExamplesWithoutServer()
	goleak.VerifyTestMain(m)
}

// skipExamplesWithoutServer leaves the examples out when no test server is
// set outside CI, as the tests skip then: an example cannot skip itself.
func skipExamplesWithoutServer() {
	if os.Getenv(testenv.PostgresVar) != "" || testenv.InCI() {
		return
	}
	flag.Parse()
	skip := "^Example"
	if cur := flag.Lookup("test.skip").Value.String(); cur != "" {
		skip = cur + "|" + skip
	}
	flag.Set("test.skip", skip)
	fmt.Fprintf(os.Stderr, "pgstore: examples skipped: %s is not set\n", testenv.PostgresVar)
}

// base is the tests' "now".
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// testDB is a schema of its own on the test server, dropped when the test
// ends, and the URL to reach it with: its application_name names the
// schema, so a test can find (and kill) its own connections.
type testDB struct {
	url    string
	schema string
}

// newDB makes a fresh schema name and registers its removal. The schema
// itself is created by the first Store opened on it.
func newDB(t testing.TB) testDB {
	t.Helper()
	server := testenv.PostgresURL(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	db := testDB{schema: "t_" + hex.EncodeToString(b[:])}
	db.url = withParam(server, "application_name", db.schema)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop schema %s: %v", db.schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA IF EXISTS `+db.schema+` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", db.schema, err)
		}
	})
	return db
}

// withParam adds a connection parameter to a URL or a key=value string.
func withParam(conn, key, value string) string {
	if !strings.Contains(conn, "://") {
		return conn + " " + key + "=" + value
	}
	sep := "?"
	if strings.Contains(conn, "?") {
		sep = "&"
	}
	return conn + sep + key + "=" + value
}

// config is a Config for the test's schema.
func (db testDB) config() pgstore.Config {
	return pgstore.Config{URL: db.url, Schema: db.schema, MaxConns: 4}
}

// open opens a Store on the schema, closed when the test ends.
func (db testDB) open(t testing.TB) *pgstore.Store {
	t.Helper()
	return openConfig(t, db.config())
}

// openConfig opens a Store, closed when the test ends.
func openConfig(t testing.TB, cfg pgstore.Config) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// openStore opens a Store on a fresh schema.
func openStore(t testing.TB) *pgstore.Store {
	t.Helper()
	return newDB(t).open(t)
}

// admin connects to the test server as itself, closed when the test ends.
func admin(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, testenv.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(ctx) })
	return conn
}

// job returns a valid interval job firing at next.
func job(id string, next time.Time) *sundial.Job {
	return &sundial.Job{ID: id, Task: "noop", Trigger: sundial.MustEvery(time.Minute, &sundial.IntervalOptions{Start: base}), NextFire: next}
}

func second[T any](_ T, err error) error { return err }
