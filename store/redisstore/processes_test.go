package redisstore_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/internal/testenv"
	"github.com/sundialhq/sundial/store/redisstore"
)

// TestProcessesKillOne runs three scheduler processes (this test binary,
// started again as children) on one prefix: 200 jobs fire every second
// for 15 s, each run taking 50 to 300 ms. Five seconds in, once it runs
// runs, node-1 is SIGKILLed; five seconds later it starts again. When
// every run has ended, the processes are stopped (SIGTERM).
// Afterwards, by the store's history and by the record the tasks wrote
// (a file per process, a line flushed per run started):
//   - no fire ran twice: one succeeded run per fire, and no run (fire and
//     attempt) started twice;
//   - no fire is unaccounted for: each has a succeeded run, and any
//     earlier attempt was interrupted and retried;
//   - every line of the record is a run of the store, on the node and
//     with the fencing token the store gave it, and no two runs of a job
//     share a token.
func TestProcessesKillOne(t *testing.T) {
	t.Parallel()
	const jobs, window = 200, 15 // window in seconds, one fire a second
	ctx := context.Background()
	url, prefix := testenv.RedisURL(t), newPrefix(t)
	st := open(t, prefix)
	start := time.Now().Truncate(time.Second).Add(4 * time.Second)
	end := start.Add((window - 1) * time.Second)
	var all []*sundial.Job
	for i := range jobs {
		all = append(all, &sundial.Job{ID: fmt.Sprintf("job-%03d", i), Task: childTask, NextFire: start,
			Trigger:  sundial.MustEvery(time.Second, &sundial.IntervalOptions{Start: start, End: end}),
			Coalesce: sundial.CoalesceAll, Overlap: sundial.OverlapQueueAll, // every fire runs
			Retry: sundial.RetryPolicy{Attempts: 3, Backoff: 100 * time.Millisecond}})
	}
	if _, err := st.AddJobs(ctx, all, sundial.ConflictError, time.Now()); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	until := end.Add(90 * time.Second) // should the test be gone; SIGTERM ends them sooner
	var wg sync.WaitGroup
	var files []string
	live := map[string]*exec.Cmd{}
	spawn := func(node, file string) {
		files = append(files, filepath.Join(dir, file))
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childVar+"="+prefix, urlVar+"="+url, nodeVar+"="+node,
			outVar+"="+files[len(files)-1], untilVar+"="+until.Format(time.RFC3339Nano))
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		live[node] = cmd
		wg.Go(func() {
			err := cmd.Wait()
			var exit *exec.ExitError
			if errors.As(err, &exit) && exit.Sys().(syscall.WaitStatus).Signal() == syscall.SIGKILL {
				return // the victim
			}
			if err != nil {
				t.Errorf("%s: %v\n%s", node, err, out)
			}
		})
	}
	stopAll := func() {
		for _, cmd := range live {
			cmd.Process.Signal(syscall.SIGTERM)
		}
		clear(live)
		wg.Wait()
	}
	defer stopAll() // whatever happens, the children end
	spawn("node-0", "node-0.txt")
	spawn("node-1", "node-1.txt")
	spawn("node-2", "node-2.txt")
	time.Sleep(time.Until(start.Add(5 * time.Second))) // the test's schedule, in real time
	waitMidRun(t, st, "node-1")
	if err := live["node-1"].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	delete(live, "node-1")
	time.Sleep(5 * time.Second) // node-1 stays dead past its heartbeat TTL
	spawn("node-1", "node-1-restarted.txt")
	waitSettled(t, st, end, jobs*window)
	stopAll()
	if t.Failed() {
		t.FailNow()
	}

	record := readRecords(t, files)
	history := readHistory(t, st, jobs, window)
	checkHistory(t, history, start, window)
	checkRecord(t, record, history)
	reportLateness(t, history)
}

// waitSettled waits, after the last fire, until no run is pending or
// running and want runs have succeeded, or a minute has passed (the
// checks then say what is missing).
func waitSettled(t *testing.T, st *redisstore.Store, end time.Time, want int) {
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

// waitMidRun waits until node holds a run that it cannot have finished:
// one claimed ahead of its time, or whose task began (at its claim or its
// due time, whichever is later) less than 40 ms ago: a task takes 50 ms
// at least. The nodes race for each second's runs, and the kill must
// catch some.
func waitMidRun(t *testing.T, st *redisstore.Store, node string) {
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
			if r.Node == node && time.Since(began) < 40*time.Millisecond {
				return
			}
		}
		time.Sleep(5 * time.Millisecond) // the children run in real time
	}
	t.Fatalf("%s ran nothing for 20 s", node)
}

// runKey names a run: job, scheduled time (ns) and attempt.
type runKey struct {
	job       string
	scheduled int64
	attempt   int
}

// recordLine is one line of a task's record.
type recordLine struct {
	node  string
	fence int64
}

// readRecords reads the tasks' records. A process killed mid-write may
// leave a last line cut short; it is ignored.
func readRecords(t *testing.T, files []string) map[runKey][]recordLine {
	t.Helper()
	out := map[runKey][]recordLine{}
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			var k runKey
			var l recordLine
			if n, _ := fmt.Sscanf(sc.Text(), "%s %d %s %d %d", &k.job, &k.scheduled, &l.node, &k.attempt, &l.fence); n == 5 {
				out[k] = append(out[k], l)
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// readHistory reads every run of every job from the store.
func readHistory(t *testing.T, st *redisstore.Store, jobs, window int) map[string][]*sundial.Run {
	t.Helper()
	out := map[string][]*sundial.Run{}
	for i := range jobs {
		id := fmt.Sprintf("job-%03d", i)
		runs, err := st.ListRuns(context.Background(), sundial.RunFilter{JobID: id, Limit: 10 * window})
		if err != nil {
			t.Fatal(err)
		}
		out[id] = runs
	}
	return out
}

// checkHistory checks the store's side: per fire of the window, one
// succeeded run; every other attempt interrupted and followed by the next
// attempt; nothing left pending or running; no run outside the window.
func checkHistory(t *testing.T, history map[string][]*sundial.Run, start time.Time, window int) {
	t.Helper()
	interrupted := 0
	for job, runs := range history {
		byFire := map[int64][]*sundial.Run{}
		for _, r := range runs {
			byFire[r.Scheduled.UnixNano()] = append(byFire[r.Scheduled.UnixNano()], r)
		}
		for k := range window {
			at := start.Add(time.Duration(k) * time.Second)
			attempts := byFire[at.UnixNano()]
			delete(byFire, at.UnixNano())
			slices.SortFunc(attempts, func(a, b *sundial.Run) int { return a.Attempt - b.Attempt })
			succeeded := 0
			for i, r := range attempts {
				switch {
				case r.Attempt != i+1:
					t.Errorf("%s fire %d: attempts %v, want 1, 2, ... each once", job, k, attemptsOf(attempts))
				case r.State == sundial.RunSucceeded:
					succeeded++
				case r.State == sundial.RunInterrupted && i+1 < len(attempts):
					interrupted++
				default:
					t.Errorf("%s fire %d attempt %d: %s (%s) on %s, want succeeded, or interrupted and retried",
						job, k, r.Attempt, r.State, r.Reason, r.Node)
				}
			}
			if succeeded != 1 {
				t.Errorf("%s fire %d: %d succeeded runs, want exactly 1", job, k, succeeded)
			}
		}
		for at, rs := range byFire {
			t.Errorf("%s: %d runs of a fire at %s, outside the window", job, len(rs), time.Unix(0, at))
		}
	}
	if interrupted == 0 {
		t.Error("no run was interrupted: the kill caught nothing mid-run")
	}
	t.Logf("%d runs interrupted by the kill, each retried", interrupted)
}

func attemptsOf(runs []*sundial.Run) []int {
	out := make([]int, len(runs))
	for i, r := range runs {
		out[i] = r.Attempt
	}
	return out
}

// checkRecord checks the tasks' record against the store: each line is a
// run the store has, started once, on its node with its fencing token;
// each succeeded run is in the record; fences are distinct per job.
func checkRecord(t *testing.T, record map[runKey][]recordLine, history map[string][]*sundial.Run) {
	t.Helper()
	stored := map[runKey]*sundial.Run{}
	for job, runs := range history {
		fences := map[int64]string{}
		for _, r := range runs {
			stored[runKey{job, r.Scheduled.UnixNano(), r.Attempt}] = r
			if r.Fence == 0 {
				continue
			}
			if other, dup := fences[r.Fence]; dup {
				t.Errorf("%s: runs %s and %s share fencing token %d", job, other, r.ID, r.Fence)
			}
			fences[r.Fence] = r.ID
		}
	}
	for k, lines := range record {
		r := stored[k]
		switch {
		case len(lines) != 1:
			t.Errorf("%s %s attempt %d started %d times by the tasks' record, want once", k.job, time.Unix(0, k.scheduled), k.attempt, len(lines))
		case r == nil:
			t.Errorf("%s %s attempt %d ran, but the store has no such run", k.job, time.Unix(0, k.scheduled), k.attempt)
		case lines[0].node != r.Node, lines[0].fence != r.Fence:
			t.Errorf("%s %s attempt %d ran on %s with fence %d; the store says %s, fence %d",
				k.job, time.Unix(0, k.scheduled), k.attempt, lines[0].node, lines[0].fence, r.Node, r.Fence)
		}
	}
	for k, r := range stored {
		if r.State == sundial.RunSucceeded && len(record[k]) == 0 {
			t.Errorf("%s %s attempt %d succeeded in the store but is not in the tasks' record", k.job, r.Scheduled, k.attempt)
		}
	}
}

// reportLateness logs the lateness of the first attempts (start minus
// scheduled time), as the store recorded it.
func reportLateness(t *testing.T, history map[string][]*sundial.Run) {
	var late []time.Duration
	for _, runs := range history {
		for _, r := range runs {
			if r.Attempt == 1 && !r.Started.IsZero() {
				late = append(late, r.Lateness())
			}
		}
	}
	if len(late) == 0 {
		return
	}
	slices.Sort(late)
	q := func(p float64) string { return late[int(p*float64(len(late)-1))].Round(time.Millisecond).String() }
	t.Logf("lateness of %d first attempts: p50 %s, p99 %s, max %s", len(late), q(0.5), q(0.99), q(1))
}
