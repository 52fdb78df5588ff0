package redisstore_test

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/store/redisstore"
)

// redisServer is a redis-server of the test's own, persisting as doc.go
// requires (appendonly, appendfsync always), so it can be killed and
// restarted without disturbing the shared server other tests use.
type redisServer struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

func startOwnRedis(t *testing.T) *redisServer {
	t.Helper()
	testenv.RedisURL(t) // the same gate as every Redis test: skipped locally, required in CI
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if testenv.InCI() {
			t.Fatalf("redis-server is not on PATH: %v", err)
		}
		t.Skipf("redis-server is not on PATH: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	s := &redisServer{t: t, bin: bin, dir: t.TempDir(), port: port}
	s.start()
	t.Cleanup(s.kill)
	return s
}

func (s *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", s.port) }

func (s *redisServer) start() {
	s.t.Helper()
	s.cmd = exec.Command(s.bin, "--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", s.port)})
	defer c.Close()
	waitFor(s.t, "redis-server to answer", 10*time.Second, func() bool {
		return c.Ping(context.Background()).Err() == nil
	})
}

// kill ends the server as a crash would: SIGKILL, no shutdown save.
func (s *redisServer) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
		s.cmd = nil
	}
}

// TestServerRestart kills the Redis server while a scheduler runs jobs
// firing every 200 ms, restarts it on its append-only file a second later,
// and finds every fire run exactly once: acknowledged writes survived (the
// persistence doc.go requires), the store's connections and subscription
// came back, and the fires due while the server was down ran late, once.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	srv := startOwnRedis(t)
	st, err := redisstore.New(context.Background(), redisstore.Config{URL: srv.url(), Prefix: "restart:"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })

	var mu sync.Mutex
	ran := map[string]int{}
	task := map[string]sundial.TaskFunc{"work": func(ctx context.Context, r *sundial.Run) error {
		mu.Lock()
		ran[fmt.Sprint(r.JobID, " ", r.Scheduled.Format(time.StampMilli))]++
		mu.Unlock()
		return nil
	}}
	const jobs, fires, every = 10, 20, 200 * time.Millisecond
	start := storeNow(t, st).Add(500 * time.Millisecond).Truncate(100 * time.Millisecond)
	end := start.Add((fires - 1) * every)
	for i := range jobs {
		trig := sundial.MustEvery(every, &sundial.IntervalOptions{Start: start, End: end})
		j := &sundial.Job{ID: fmt.Sprintf("job-%d", i), Task: "work", Trigger: trig, NextFire: start,
			Coalesce: sundial.CoalesceAll, MisfireGrace: time.Minute, MaxInstances: fires} // the backlog runs, every fire of it
		if _, err := st.AddJob(context.Background(), j, sundial.ConflictError, start); err != nil {
			t.Fatal(err)
		}
	}
	s := startScheduler(t, sundial.Config{Store: st, NodeID: "n1", PollInterval: 100 * time.Millisecond,
		HeartbeatInterval: 200 * time.Millisecond, HeartbeatTTL: 5 * time.Second}, task)

	waitFor(t, "the first fires", 10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(ran) >= jobs })
	srv.kill()
	time.Sleep(time.Second) // the outage: fires fall due meanwhile
	srv.start()
	// A claim whose answer was lost with the connection is given back
	// after HeartbeatTTL (interrupted, never started) and run again.
	waitFor(t, "every fire to succeed", 30*time.Second, func() bool { return succeeded(t, st, jobs) == jobs*fires })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := s.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	for k, n := range ran {
		if n != 1 {
			t.Errorf("fire %s ran %d times", k, n)
		}
	}
	if len(ran) != jobs*fires {
		t.Errorf("the tasks ran %d fires, want %d", len(ran), jobs*fires)
	}
	// In the store: one success per fire; any other run of a fire is a
	// claim given back before its task began.
	for i := range jobs {
		id := fmt.Sprintf("job-%d", i)
		runs, err := st.ListRuns(context.Background(), sundial.RunFilter{JobID: id, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		ok := map[int64]int{}
		for _, r := range runs {
			switch {
			case r.State == sundial.RunSucceeded:
				ok[r.Scheduled.UnixNano()]++
			case r.State == sundial.RunInterrupted && r.Started.IsZero():
			default:
				t.Errorf("%s %s: %s (%s), started %v", id, r.Scheduled.Format(time.StampMilli), r.State, r.Reason, r.Started)
			}
		}
		for k := range fires {
			if n := ok[start.Add(time.Duration(k)*every).UnixNano()]; n != 1 {
				t.Errorf("%s fire %d succeeded %d times, want once", id, k, n)
			}
		}
	}
}

// succeeded counts the succeeded runs of job-0 … job-(jobs-1).
func succeeded(t *testing.T, s *redisstore.Store, jobs int) int {
	n := 0
	for i := range jobs {
		runs, err := s.ListRuns(context.Background(), sundial.RunFilter{JobID: fmt.Sprintf("job-%d", i), States: []sundial.RunState{sundial.RunSucceeded}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		n += len(runs)
	}
	return n
}
