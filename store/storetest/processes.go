package storetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
)

// ProcessesConfig is what Processes needs of a store.
type ProcessesConfig struct {
	// Store is the test's own store: empty, and shared with the children,
	// which open stores of their own on the same data.
	Store sundial.Store
	// Env ("KEY=value") is what a child needs to open the same data: the
	// open function the store's TestMain passes to ProcessesChild reads
	// it from its environment.
	Env []string
}

// Processes runs three scheduler processes on cfg.Store's data: the test
// binary, started again as children, which must call ProcessesChild first
// thing in TestMain. 200 jobs fire every second for 15 s, each run taking
// 50 to 300 ms. Five seconds in, once it holds runs it cannot have
// finished, a node is SIGKILLed (the first seen holding such a run: on a
// shared store the node that created a second's runs usually runs them,
// so which one that is depends on the race for the jobs); five seconds
// later it starts again. When
// every run has ended, the processes are stopped (SIGTERM). Afterwards, by
// the store's history and by the record the tasks wrote (a file per
// process, a line flushed per run started):
//   - no fire ran twice: one succeeded run per fire, and no run (fire and
//     attempt) started twice;
//   - no fire is unaccounted for: each has a succeeded run, and any
//     earlier attempt was interrupted and retried;
//   - every line of the record is a run of the store, on the node and
//     with the fencing token the store gave it, and no two runs of a job
//     share a token.
//
// It takes about 30 s of real time; the caller may run it in parallel with
// other tests on other data.
func Processes(t *testing.T, cfg ProcessesConfig) {
	const jobs, window = 200, 15 // window in seconds, one fire a second
	start := time.Now().Truncate(time.Second).Add(4 * time.Second)
	end := start.Add((window - 1) * time.Second)
	addProcessJobs(t, cfg.Store, jobs, start, end)

	c := &cluster{t: t, env: cfg.Env, dir: t.TempDir(), live: map[string]*child{},
		until: end.Add(90 * time.Second)} // should the test be gone; SIGTERM ends them sooner
	defer c.stop() // whatever happens, the children end
	c.spawn("node-0", "node-0.txt")
	c.spawn("node-1", "node-1.txt")
	c.spawn("node-2", "node-2.txt")
	time.Sleep(time.Until(start.Add(5 * time.Second))) // the test's schedule, in real time
	victim := waitMidRun(t, cfg.Store)
	c.kill(victim)
	t.Logf("%s SIGKILLed mid-run", victim)
	time.Sleep(5 * time.Second) // the victim stays dead past its heartbeat TTL
	c.spawn(victim, victim+"-restarted.txt")
	waitSettled(t, cfg.Store, end, jobs*window)
	c.stop()
	if t.Failed() {
		t.FailNow()
	}

	record := readRecords(t, c.files)
	history := readHistory(t, cfg.Store, jobs, window)
	checkHistory(t, history, start, window)
	checkRecord(t, record, history)
	reportLateness(t, history)
}

// addProcessJobs stores the jobs of Processes: every fire from start to
// end runs, retried on interruption.
func addProcessJobs(t *testing.T, st sundial.Store, jobs int, start, end time.Time) {
	t.Helper()
	var all []*sundial.Job
	for i := range jobs {
		all = append(all, &sundial.Job{ID: processJobID(i), Task: recordTask, NextFire: start,
			Trigger:  sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: start, End: end}),
			Coalesce: sundial.CoalesceAll, Overlap: sundial.OverlapQueueAll, // every fire runs
			Retry: sundial.RetryPolicy{Attempts: 3, Backoff: 100 * time.Millisecond}})
	}
	if err := addJobs(st, all, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// addJobs adds jobs in one call when the store is a sundial.JobAdder
// (every store in the module is), else one by one.
func addJobs(st sundial.Store, jobs []*sundial.Job, now time.Time) error {
	ctx := context.Background()
	if batch, ok := st.(sundial.JobAdder); ok {
		_, err := batch.AddJobs(ctx, jobs, sundial.ConflictError, now)
		return err
	}
	for _, j := range jobs {
		if _, err := st.AddJob(ctx, j, sundial.ConflictError, now); err != nil {
			return err
		}
	}
	return nil
}

// processJobID is the ID of the i-th job of Processes.
func processJobID(i int) string { return fmt.Sprintf("job-%03d", i) }

// cluster is the test's side of the scheduler processes: it starts them,
// kills one, stops the others and waits for them.
type cluster struct {
	t     *testing.T
	env   []string
	dir   string
	until time.Time
	wg    sync.WaitGroup
	live  map[string]*child // by node; used by the test's goroutine only
	files []string          // the tasks' records
}

// child is a scheduler process.
type child struct {
	cmd    *exec.Cmd
	record string        // the file its tasks write
	done   chan struct{} // closed when it has exited
}

// ready reports whether the child handles SIGTERM, or has exited.
func (ch *child) ready() bool {
	select {
	case <-ch.done:
		return true
	default:
		_, err := os.Stat(readyFile(ch.record))
		return err == nil
	}
}

// spawn starts a child process as node, recording its tasks' runs in
// file. A child that exits with an error fails the test, unless SIGKILLed.
func (c *cluster) spawn(node, file string) {
	ch := &child{record: filepath.Join(c.dir, file), done: make(chan struct{})}
	c.files = append(c.files, ch.record)
	ch.cmd = exec.Command(os.Args[0], "-test.run=^$")
	ch.cmd.Env = append(append(os.Environ(), c.env...), nodeVar+"="+node,
		outVar+"="+ch.record, untilVar+"="+c.until.Format(time.RFC3339Nano))
	out := &strings.Builder{}
	ch.cmd.Stdout, ch.cmd.Stderr = out, out
	if err := ch.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	c.live[node] = ch
	c.wg.Go(func() {
		err := ch.cmd.Wait()
		close(ch.done)
		var exit *exec.ExitError
		if errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
			return // the victim
		}
		if err != nil {
			c.t.Errorf("%s: %v\n%s", node, err, out)
		}
	})
}

// kill SIGKILLs node's process.
func (c *cluster) kill(node string) {
	if err := c.live[node].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
	delete(c.live, node)
}

// stop asks the live processes to shut down (SIGTERM) and waits for every
// process to exit. It signals a process only once it says it handles
// SIGTERM (a child just restarted on a loaded machine may not yet), so
// the signal's default action never ends one.
func (c *cluster) stop() {
	for _, ch := range c.live {
		for deadline := time.Now().Add(30 * time.Second); !ch.ready() && time.Now().Before(deadline); {
			time.Sleep(10 * time.Millisecond)
		}
		ch.cmd.Process.Signal(syscall.SIGTERM)
	}
	clear(c.live)
	c.wg.Wait()
}

// readyFile is the file a child creates beside its record once it handles
// SIGTERM.
func readyFile(record string) string { return record + ".ready" }

// waitSettled waits, after the last fire, until no run is pending or
// running and want runs have succeeded, or a minute has passed (the
// checks then say what is missing).
func waitSettled(t *testing.T, st sundial.Store, end time.Time, want int) {
	t.Helper()
	ctx := context.Background()
	time.Sleep(time.Until(end.Add(time.Second))) // the children run in real time
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		active, err := st.ListRuns(ctx, sundial.RunFilter{States: []sundial.RunState{sundial.RunPending, sundial.RunRunning}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(active) > 0 {
			continue
		}
		done, err := st.ListRuns(ctx, sundial.RunFilter{States: []sundial.RunState{sundial.RunSucceeded}, Limit: want + 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(done) >= want {
			return
		}
	}
	t.Error("the runs did not settle within a minute of the last fire")
}

// waitMidRun waits until a node holds a run that it cannot have
// finished: one claimed ahead of its time, or whose task began (at its
// claim or its due time, whichever is later) less than 40 ms ago: a task
// takes 50 ms at least. It returns that node. The nodes race for each
// second's runs, and the kill must catch some.
func waitMidRun(t *testing.T, st sundial.Store) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		runs, err := st.ListRuns(context.Background(), sundial.RunFilter{States: []sundial.RunState{sundial.RunRunning}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range runs {
			began := r.Started
			if r.Due.After(began) {
				began = r.Due
			}
			if time.Since(began) < 40*time.Millisecond {
				return r.Node
			}
		}
		time.Sleep(5 * time.Millisecond) // the children run in real time
	}
	t.Fatal("no node ran anything for 20 s")
	return ""
}
