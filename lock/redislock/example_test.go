package redislock_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/lock/redislock"
)

// Two replicas of a service run the same nightly job; the lock lets one
// of them run it. The holder does its work under the lock's context,
// which is cancelled if the lock is lost, and hands the fencing token to
// what it writes to.
func ExampleClient_Obtain() {
	ctx := context.Background()
	opts, err := redis.ParseURL(os.Getenv(testenv.RedisVar))
	if err != nil {
		panic(err)
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	prefix := fmt.Sprintf("example:%d:", time.Now().UnixNano()) // keys of its own
	defer rdb.Del(ctx, prefix+"{nightly-report}", prefix+"{nightly-report}:fence")
	locks := redislock.New(rdb, redislock.Options{Prefix: prefix})

	replica := func(name string) {
		lock, err := locks.Obtain(ctx, "nightly-report", 10*time.Second)
		if errors.Is(err, redislock.ErrNotObtained) {
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
	first, err := locks.Obtain(ctx, "nightly-report", 10*time.Second)
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
