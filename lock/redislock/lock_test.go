package redislock_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/lock/redislock"
)

// TestMain fails the tests if a goroutine outlives them: every lock is
// released or lost.
func TestMain(m *testing.M) {
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
	fmt.Fprintf(os.Stderr, "redislock: examples skipped: %s is not set\n", testenv.RedisVar)
}

// setup returns a client on the test server and a Client of locks under
// a prefix of the test's own, whose keys are deleted when the test ends.
func setup(t *testing.T) (*redis.Client, *redislock.Client, string) {
	t.Helper()
	rdb := newClient(t, nil)
	b := make([]byte, 6)
	rand.Read(b)
	prefix := "locktest:" + hex.EncodeToString(b) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, _ := rdb.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
	})
	return rdb, redislock.New(rdb, redislock.Options{Prefix: prefix}), prefix
}

// newClient opens a client on the test server, with dial as its dialer
// when not nil, closed when the test ends. Its connections carry a name
// of their own (CLIENT SETNAME), so a test can kill them.
func newClient(t *testing.T, dial func(context.Context, string, string) (net.Conn, error)) *redis.Client {
	t.Helper()
	opts, err := redis.ParseURL(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	if dial != nil {
		opts.Dialer = dial
	}
	b := make([]byte, 6)
	rand.Read(b)
	opts.ClientName = "locktest-" + hex.EncodeToString(b)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

func obtain(t *testing.T, c *redislock.Client, key string, ttl time.Duration) *redislock.Lock {
	t.Helper()
	l, err := c.Obtain(context.Background(), key, ttl)
	if err != nil {
		t.Fatalf("Obtain(%s): %v", key, err)
	}
	return l
}

// TestHolderOutlivesTTL holds a lock with a TTL of 300 ms for 1.5 s:
// renewal keeps it, so another client never obtains it meanwhile, and
// obtains it once it is released, with a greater fencing token.
func TestHolderOutlivesTTL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, c, prefix := setup(t)
	const ttl = 300 * time.Millisecond
	held := obtain(t, c, "report", ttl)
	other := redislock.New(newClient(t, nil), redislock.Options{Prefix: prefix})
	tries := 0
	for until := time.Now().Add(1500 * time.Millisecond); time.Now().Before(until); tries++ {
		if l, err := other.Obtain(ctx, "report", ttl); !errors.Is(err, redislock.ErrNotObtained) {
			if l != nil {
				l.Release(ctx)
			}
			t.Fatalf("another client's Obtain %v into the hold: %v, want ErrNotObtained", time.Since(until.Add(-1500*time.Millisecond)), err)
		}
		time.Sleep(20 * time.Millisecond) // the hold is measured in real time
	}
	select {
	case <-held.Lost():
		t.Fatal("the lock was lost while held")
	default:
	}
	if err := held.Release(ctx); err != nil {
		t.Fatalf("Release: %v", err)
	}
	if !errors.Is(context.Cause(held.Context()), redislock.ErrReleased) {
		t.Errorf("the released lock's context: %v", context.Cause(held.Context()))
	}
	next := obtain(t, other, "report", ttl)
	defer next.Release(ctx)
	if next.Fence() <= held.Fence() {
		t.Errorf("fencing tokens %d then %d, want increasing", held.Fence(), next.Fence())
	}
	t.Logf("%d refused tries during the hold", tries)
}

// TestStaleTokenRefused has a lock's key vanish under its holder (as
// after an expiry) and another obtain it: the first holder's Release is
// refused and leaves the second's lock in place, and the first learns it
// lost the lock.
func TestStaleTokenRefused(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, c, prefix := setup(t)
	first := obtain(t, c, "job", time.Second)
	if err := rdb.Del(ctx, prefix+"{job}").Err(); err != nil {
		t.Fatal(err)
	}
	second := obtain(t, c, "job", time.Second)
	defer second.Release(ctx)
	if err := first.Release(ctx); !errors.Is(err, redislock.ErrNotHeld) {
		t.Errorf("Release by the stale holder: %v, want ErrNotHeld", err)
	}
	if v, _ := rdb.Get(ctx, prefix+"{job}").Result(); v != second.Token() {
		t.Errorf("the key holds %q after the stale release, want the second holder's token", v)
	}
	if second.Fence() <= first.Fence() {
		t.Errorf("fencing tokens %d then %d, want increasing", first.Fence(), second.Fence())
	}
	if err := second.Release(ctx); err != nil {
		t.Errorf("the holder's Release: %v", err)
	}
	if err := second.Release(ctx); !errors.Is(err, redislock.ErrNotHeld) {
		t.Errorf("a second Release: %v, want ErrNotHeld", err)
	}
}

// TestLostWhenKeyDeleted deletes a held lock's key: at its next renewal
// the lock finds out, closes Lost and cancels its Context.
func TestLostWhenKeyDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb, c, prefix := setup(t)
	l := obtain(t, c, "job", 300*time.Millisecond)
	if err := rdb.Del(ctx, prefix+"{job}").Err(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-l.Lost():
	case <-time.After(5 * time.Second):
		t.Fatal("Lost did not close after the key was deleted")
	}
	if !errors.Is(context.Cause(l.Context()), redislock.ErrLost) {
		t.Errorf("the context's cause: %v, want ErrLost", context.Cause(l.Context()))
	}
	if err := l.Release(ctx); !errors.Is(err, redislock.ErrNotHeld) {
		t.Errorf("Release of a lost lock: %v, want ErrNotHeld", err)
	}
}

// gate is a dialer that can be shut: a server that cannot be reached.
type gate struct{ shut atomic.Bool }

func (g *gate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if g.shut.Load() {
		return nil, errors.New("test: dialing refused")
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// TestLostWhenUnreachable cuts a holder off from Redis: it gives the lock
// up (Lost closes) before its TTL can run out, so that by the time
// another client obtains the lock, the first has stopped.
func TestLostWhenUnreachable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	g := &gate{}
	cut := newClient(t, g.dial)
	_, c, prefix := setup(t)
	const ttl = 600 * time.Millisecond
	l := obtain(t, redislock.New(cut, redislock.Options{Prefix: prefix}), "job", ttl)
	g.shut.Store(true)
	if killClients(t, cut) == 0 {
		t.Fatal("no connection of the holder to kill")
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		other, err := c.Obtain(ctx, "job", ttl)
		if err == nil {
			defer other.Release(ctx)
			select {
			case <-l.Lost():
			default:
				t.Fatal("another client obtained the lock before its cut-off holder gave it up")
			}
			return
		}
		if !errors.Is(err, redislock.ErrNotObtained) {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Millisecond) // the TTL runs out on Redis's clock
	}
	t.Fatal("the cut-off holder's lock never expired")
}

// killClients kills rdb's connections to the server, from another
// client, and returns how many.
func killClients(t *testing.T, rdb *redis.Client) int {
	t.Helper()
	ctx := context.Background()
	admin := newClient(t, nil)
	list, err := admin.Do(ctx, "CLIENT", "LIST", "TYPE", "normal").Text()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(list, "\n") {
		if !strings.Contains(line, " name="+rdb.Options().ClientName+" ") {
			continue
		}
		for _, f := range strings.Fields(line) {
			if id, ok := strings.CutPrefix(f, "id="); ok && admin.Do(ctx, "CLIENT", "KILL", "ID", id).Err() == nil {
				n++
			}
		}
	}
	return n
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	_, c, _ := setup(t)
	for _, tt := range []struct {
		key string
		ttl time.Duration
	}{{"", time.Second}, {"k", time.Millisecond}, {"k", -time.Second}} {
		if l, err := c.Obtain(context.Background(), tt.key, tt.ttl); !errors.Is(err, redislock.ErrInvalid) {
			if l != nil {
				l.Release(context.Background())
			}
			t.Errorf("Obtain(%q, %v): %v, want ErrInvalid", tt.key, tt.ttl, err)
		}
	}
}
