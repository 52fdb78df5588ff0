package pglock_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/lock/pglock"
)

// Two replicas of a service run the same nightly job; the lock lets one
// of them run it. The holder does its work under the lock's context,
// which is cancelled if its connection fails, and hands the fencing token
// to what it writes to.
func ExampleLocker_Obtain() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, os.Getenv(testenv.PostgresVar))
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	// A schema of its own, so the example's fencing tokens start at 1.
	schema := fmt.Sprintf("pglock_example_%d", time.Now().UnixNano())
	if _, err := pool.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		panic(err)
	}
	defer pool.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
	locks, err := pglock.New(pool, pglock.Options{Schema: schema})
	if err != nil {
		panic(err)
	}

	replica := func(name string) {
		lock, err := locks.Obtain(ctx, "nightly-report")
		if errors.Is(err, pglock.ErrNotObtained) {
			fmt.Println(name, "skips: another replica holds the lock")
			return
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(name, "runs the report with fencing token", lock.Fence())
		// ... the work, under lock.Context() ...
		if err := lock.Release(ctx); err != nil {
			panic(err)
		}
	}
	first, err := locks.Obtain(ctx, "nightly-report")
	if err != nil {
		panic(err)
	}
	fmt.Println("replica-a holds the lock with fencing token", first.Fence())
	replica("replica-b")
	first.Release(ctx)
	replica("replica-b")
	// Output:
	// replica-a holds the lock with fencing token 1
	// replica-b skips: another replica holds the lock
	// replica-b runs the report with fencing token 2
}
