package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/redisstore"
)

// The environment of a child process of TestProcessesKillOne.
const (
	childVar  = "SUNDIAL_REDIS_CHILD" // the key prefix
	urlVar    = "SUNDIAL_REDIS_URL"   // the server
	nodeVar   = "SUNDIAL_REDIS_NODE"  // the node's ID
	outVar    = "SUNDIAL_REDIS_OUT"   // the file of the tasks' record
	untilVar  = "SUNDIAL_REDIS_UNTIL" // when to shut down at the latest (RFC 3339)
	childTask = "record"
)

// childConfig is the scheduler configuration of the child processes: a
// short heartbeat TTL and job lease, so a killed node's work moves on
// within the test, and room for every run at once.
func childConfig(store sundial.Store, node string) sundial.Config {
	return sundial.Config{Store: store, NodeID: node, HeartbeatInterval: 500 * time.Millisecond,
		HeartbeatTTL: 3 * time.Second, JobLease: 2 * time.Second, Executors: map[string]int{"default": 300}}
}

// runChild is one scheduler process of TestProcessesKillOne: it runs the
// jobs stored under its prefix until SIGTERM (or its time is up, should
// the parent be gone), recording each run its tasks start, and returns
// the exit code.
func runChild() int {
	if err := child(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func child() error {
	ctx := context.Background()
	until, err := time.Parse(time.RFC3339Nano, os.Getenv(untilVar))
	if err != nil {
		return err
	}
	out, err := os.OpenFile(os.Getenv(outVar), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	st, err := redisstore.New(ctx, redisstore.Config{URL: os.Getenv(urlVar), Prefix: os.Getenv(childVar)})
	if err != nil {
		return err
	}
	defer st.Close()
	node := os.Getenv(nodeVar)
	s, err := sundial.New(childConfig(st, node))
	if err != nil {
		return err
	}
	var mu sync.Mutex
	s.Handle(childTask, func(ctx context.Context, r *sundial.Run) error {
		// The record, written and flushed before the work, as a task that
		// writes to another system with the fencing token would.
		line := fmt.Sprintf("%s %d %s %d %d\n", r.JobID, r.Scheduled.UnixNano(), node, r.Attempt, r.Fence)
		mu.Lock()
		_, err := out.WriteString(line)
		if err == nil {
			err = out.Sync()
		}
		mu.Unlock()
		if err != nil {
			return err
		}
		select { // the work: long enough that a kill catches some mid-run
		case <-time.After(time.Duration(50+rand.IntN(250)) * time.Millisecond):
		case <-ctx.Done():
		}
		return ctx.Err()
	})
	if err := s.Start(ctx); err != nil {
		return err
	}
	term, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	select {
	case <-term.Done():
	case <-time.After(time.Until(until)):
	}
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if cut, err := s.Shutdown(sctx); err != nil || len(cut) > 0 {
		return fmt.Errorf("shutdown: %v, %d runs cut short", err, len(cut))
	}
	return nil
}
