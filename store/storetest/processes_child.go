package storetest

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sundialhq/sundial"
)

// The environment of a child process of Processes, besides
// ProcessesConfig.Env.
const (
	nodeVar    = "SUNDIAL_STORETEST_NODE"  // the node's ID
	outVar     = "SUNDIAL_STORETEST_OUT"   // the file of the tasks' record
	untilVar   = "SUNDIAL_STORETEST_UNTIL" // when to shut down at the latest (RFC 3339)
	recordTask = "record"
)

// ProcessesChild runs this process as one of the scheduler processes of
// Processes, if it was started as one, and reports so (isChild) with the
// exit code to exit with; otherwise it does nothing. A store's TestMain
// calls it first:
//
//	if code, isChild := storetest.ProcessesChild(open); isChild {
//		os.Exit(code)
//	}
//
// open opens the store on the data the test's ProcessesConfig.Env names,
// read from the environment; the store is closed at the end if it is an
// io.Closer. The child runs the stored jobs until SIGTERM (or its time is
// up, should the test be gone), recording each run its tasks start. Any
// error, or a run cut short by the shutdown, is printed and exits 1.
func ProcessesChild(open func(ctx context.Context) (sundial.Store, error)) (code int, isChild bool) {
	if os.Getenv(nodeVar) == "" {
		return 0, false
	}
	if err := runChild(open); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1, true
	}
	return 0, true
}

// childConfig is the scheduler configuration of the child processes: a
// short heartbeat TTL and job lease, so a killed node's work moves on
// within the test, and room for every run at once.
func childConfig(store sundial.Store, node string) sundial.Config {
	return sundial.Config{Store: store, NodeID: node, HeartbeatInterval: 500 * time.Millisecond,
		HeartbeatTTL: 3 * time.Second, JobLease: 2 * time.Second, Executors: map[string]int{"default": 300}}
}

func runChild(open func(ctx context.Context) (sundial.Store, error)) error {
	ctx := context.Background()
	// First, so a SIGTERM that comes while the child starts still ends it
	// through Shutdown, not by the signal's default action.
	term, stop := signal.NotifyContext(ctx, syscall.SIGTERM)
	defer stop()
	if err := os.WriteFile(readyFile(os.Getenv(outVar)), nil, 0o600); err != nil { // SIGTERM is safe now
		return err
	}
	until, err := time.Parse(time.RFC3339Nano, os.Getenv(untilVar))
	if err != nil {
		return err
	}
	out, err := os.OpenFile(os.Getenv(outVar), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer out.Close()
	st, err := open(ctx)
	if err != nil {
		return err
	}
	if c, ok := st.(io.Closer); ok {
		defer c.Close()
	}
	node := os.Getenv(nodeVar)
	s, err := sundial.New(childConfig(st, node))
	if err != nil {
		return err
	}
	if err := s.Handle(recordTask, recordingTask(out, node)); err != nil {
		return err
	}
	began := time.Now()
	if err := s.Start(ctx); err != nil {
		return err
	}
	if d := time.Since(began); d > time.Second {
		fmt.Fprintf(os.Stderr, "%s: Start took %v\n", node, d)
	}
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

// recordingTask is the child's task: it writes and flushes a line to out
// before its work, as a task that writes to another system with the
// fencing token would, then works 50 to 300 ms: long enough that a kill
// catches some runs mid-run.
func recordingTask(out *os.File, node string) sundial.TaskFunc {
	var mu sync.Mutex
	return func(ctx context.Context, r *sundial.Run) error {
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
		select {
		case <-time.After(time.Duration(50+rand.IntN(250)) * time.Millisecond):
		case <-ctx.Done():
		}
		return ctx.Err()
	}
}
