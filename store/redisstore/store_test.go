package redisstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/store/redisstore"
	"github.com/sundialhq/sundial/store/storetest"
)

// TestMain fails the tests if a goroutine outlives them: every Store, and
// its subscription, is closed. A test binary started as one of the scheduler
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
	if os.Getenv(testenv.RedisVar) != "" || testenv.InCI() {
		return
	}
	flag.Parse()
	skip := "^Example"
	if cur := flag.Lookup("test.skip").Value.String(); cur != "" {
		skip = cur + "|" + skip
	}
	flag.Set("test.skip", skip)
	fmt.Fprintf(os.Stderr, "redisstore: examples skipped: %s is not set\n", testenv.RedisVar)
}

// base is the tests' "now".
var base = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// newPrefix returns a key prefix of its own for a test, and deletes its
// keys when the test ends.
func newPrefix(t testing.TB) string {
	t.Helper()
	url := testenv.RedisURL(t)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "sundialtest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() { deleteKeys(t, url, prefix) })
	return prefix
}

// deleteKeys deletes every key under prefix.
func deleteKeys(t testing.TB, url, prefix string) {
	t.Helper()
	rdb := client(t, url)
	defer rdb.Close()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("scanning %s*: %v", prefix, err)
	}
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		if err := rdb.Unlink(ctx, keys[:n]...).Err(); err != nil {
			t.Errorf("deleting %s*: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}

// client opens a plain client on url.
func client(t testing.TB, url string) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	return redis.NewClient(opts)
}

// open returns a Store on prefix, closed when the test ends.
func open(t testing.TB, prefix string) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(context.Background(), redisstore.Config{URL: testenv.RedisURL(t), Prefix: prefix})
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

func TestConformance(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) sundial.Store { return open(t, newPrefix(t)) })
}

// openMany opens n Stores on one prefix, as n processes would.
func openMany(t *testing.T, n int) []sundial.Store {
	prefix := newPrefix(t)
	out := make([]sundial.Store, n)
	for i := range out {
		out[i] = open(t, prefix)
	}
	return out
}

// TestFourStoresExactlyOnce runs storetest's exactly-once race with four
// Stores, four connection pools, on one prefix.
func TestFourStoresExactlyOnce(t *testing.T) {
	t.Parallel()
	storetest.ExactlyOnce(t, openMany(t, 4))
}

// TestFourStoresMaxInstances runs storetest's cluster-wide MaxInstances
// race with four Stores on one prefix.
func TestFourStoresMaxInstances(t *testing.T) {
	t.Parallel()
	storetest.MaxInstancesRace(t, openMany(t, 4))
}
