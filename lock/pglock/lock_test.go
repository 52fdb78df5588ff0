package pglock_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/lock/pglock"
)

// TestMain fails the tests if a goroutine outlives them: every lock is
// released or lost, every pool closed.
func TestMain(m *testing.M) {
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
	fmt.Fprintf(os.Stderr, "pglock: examples skipped: %s is not set\n", testenv.PostgresVar)
}

// setup creates a schema of the test's own (dropped when it ends) and
// returns a pool and a Locker whose fence table lives there.
func setup(t *testing.T) (*pgxpool.Pool, *pglock.Locker, string) {
	t.Helper()
	url := testenv.PostgresURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	schema := "locktest_" + hex.EncodeToString(b)
	pool := newPool(t, url)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := pool.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})
	return pool, newLocker(t, pool, schema), schema
}

func newPool(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func newLocker(t *testing.T, pool *pgxpool.Pool, schema string) *pglock.Locker {
	t.Helper()
	lk, err := pglock.New(pool, pglock.Options{Schema: schema, PingEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return lk
}

func obtain(t *testing.T, lk *pglock.Locker, name string) *pglock.Lock {
	t.Helper()
	l, err := lk.Obtain(context.Background(), name)
	if err != nil {
		t.Fatalf("Obtain(%s): %v", name, err)
	}
	return l
}

// TestHolderOutlives holds a lock for 1.5 s, 15 pings of its connection:
// another process's Locker (a pool of its own) is refused all along, and
// obtains the lock once it is released, with a greater fencing token.
func TestHolderOutlives(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, lk, schema := setup(t)
	held := obtain(t, lk, "report")
	other := newLocker(t, newPool(t, testenv.PostgresURL(t)), schema)
	for until := time.Now().Add(1500 * time.Millisecond); time.Now().Before(until); {
		if l, err := other.Obtain(ctx, "report"); !errors.Is(err, pglock.ErrNotObtained) {
			if l != nil {
				l.Release(ctx)
			}
			t.Fatalf("another Obtain during the hold: %v, want ErrNotObtained", err)
		}
		time.Sleep(50 * time.Millisecond) // the hold is measured in real time
	}
	select {
	case <-held.Lost():
		t.Fatal("the lock was lost while held")
	default:
	}
	if err := held.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if !errors.Is(context.Cause(held.Context()), pglock.ErrReleased) {
		t.Errorf("the released lock's context: %v", context.Cause(held.Context()))
	}
	next := obtain(t, other, "report")
	if next.Fence() <= held.Fence() {
		t.Errorf("fencing tokens %d then %d, want increasing", held.Fence(), next.Fence())
	}
	if err := next.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if err := next.Release(ctx); !errors.Is(err, pglock.ErrNotHeld) {
		t.Errorf("a second Release: %v, want ErrNotHeld", err)
	}
}

// TestTerminatedBackendLosesLock terminates the backend of a held lock's
// connection: the server releases the lock, the lock's ping fails, Lost
// closes and the Context is cancelled, and another session obtains it.
func TestTerminatedBackendLosesLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, lk, _ := setup(t)
	l := obtain(t, lk, "job")
	key := pglock.Key("job")
	var pid int32
	err := pool.QueryRow(ctx, `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1
		AND classid::bigint = $1 AND objid::bigint = $2 AND granted`, int64(uint32(key>>32)), int64(uint32(key))).Scan(&pid)
	if err != nil {
		t.Fatalf("finding the lock's backend: %v", err)
	}
	if _, err := pool.Exec(ctx, `SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("Lost did not close after the backend was terminated")
	}
	if !errors.Is(context.Cause(l.Context()), pglock.ErrLost) {
		t.Errorf("the context's cause: %v, want ErrLost", context.Cause(l.Context()))
	}
	next := obtain(t, lk, "job")
	defer next.Release(ctx)
	if err := l.Release(ctx); !errors.Is(err, pglock.ErrNotHeld) {
		t.Errorf("Release of a lost lock: %v, want ErrNotHeld", err)
	}
}

// TestFencesFromOneTable has several Lockers create the fence table at
// once, and take turns on one name: the fencing tokens count up.
func TestFencesFromOneTable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, _, schema := setup(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		lk := newLocker(t, pool, schema)
		wg.Go(func() {
			l, err := lk.Obtain(ctx, fmt.Sprint("name-", i))
			if err == nil {
				err = l.Release(ctx)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Obtain racing to create the table: %v", err)
		}
	}
	lk := newLocker(t, pool, schema)
	for want := int64(1); want <= 3; want++ {
		l := obtain(t, lk, "counted")
		if l.Fence() != want {
			t.Errorf("fencing token %d, want %d", l.Fence(), want)
		}
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT fence FROM `+pgx.Identifier{schema, "sundial_lock_fences"}.Sanitize()+
		` WHERE name = 'counted'`).Scan(&n); err != nil || n != 3 {
		t.Errorf("the table holds %d, %v; want 3", n, err)
	}
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	pool, lk, _ := setup(t)
	if _, err := pglock.New(pool, pglock.Options{PingEvery: -time.Second}); !errors.Is(err, pglock.ErrInvalid) {
		t.Errorf("New with a negative PingEvery: %v, want ErrInvalid", err)
	}
	if l, err := lk.Obtain(context.Background(), ""); !errors.Is(err, pglock.ErrInvalid) {
		if l != nil {
			l.Release(context.Background())
		}
		t.Errorf("Obtain with no name: %v, want ErrInvalid", err)
	}
	missing, err := pglock.New(pool, pglock.Options{Schema: "no_such_schema_here"})
	if err != nil {
		t.Fatal(err)
	}
	if l, err := missing.Obtain(context.Background(), "x"); err == nil {
		l.Release(context.Background())
		t.Error("Obtain with a fence table in a missing schema succeeded")
	}
}
