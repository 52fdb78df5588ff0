package sqlitestore_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/sqlitestore"
)

// TestProcessesExactlyOnce runs three scheduler processes on one file
// (this test binary, started again as a child): 20 jobs fire every 200 ms
// for 3 s. Every fire must run exactly once by the tasks' own record,
// written by each process to a file of its own, and by the store's.
func TestProcessesExactlyOnce(t *testing.T) {
	const jobs, every, fires = 20, 200 * time.Millisecond, 15
	dir := t.TempDir()
	path := filepath.Join(dir, "shared.db")
	st, err := sqlitestore.New(context.Background(), sqlitestore.Config{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().Truncate(time.Second).Add(2 * time.Second)
	end := start.Add((fires - 1) * every)
	for i := range jobs {
		trig := sundial.MustEvery(every, &sundial.IntervalOptions{Start: start, End: end})
		j := &sundial.Job{ID: fmt.Sprintf("job-%02d", i), Task: "noop", Trigger: trig, NextFire: start}
		if _, err := st.AddJob(context.Background(), j, sundial.ConflictError, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	var wg sync.WaitGroup
	outs := make([]string, 3)
	for n := range outs {
		outs[n] = filepath.Join(dir, fmt.Sprintf("node-%d.txt", n))
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SUNDIAL_SQLITE_CHILD="+path, "SUNDIAL_SQLITE_OUT="+outs[n],
			fmt.Sprintf("SUNDIAL_SQLITE_NODE=node-%d", n), "SUNDIAL_SQLITE_UNTIL="+end.Add(3*time.Second).Format(time.RFC3339Nano))
		wg.Go(func() {
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("child %d: %v\n%s", n, err, out)
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}

	ran := map[string]int{}
	for _, out := range outs {
		readRecord(t, out, ran)
	}
	st = open(t, sqlitestore.Config{Path: path})
	for i := range jobs {
		id := fmt.Sprintf("job-%02d", i)
		runs, err := st.ListRuns(context.Background(), sundial.RunFilter{JobID: id, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		stored := map[int64]int{}
		for _, r := range runs {
			stored[r.Scheduled.UnixNano()]++
			if r.State != sundial.RunSucceeded {
				t.Errorf("%s fire %s: %s (%s), want succeeded", id, r.Scheduled.Format(time.TimeOnly), r.State, r.Reason)
			}
		}
		for k := range fires {
			at := start.Add(time.Duration(k) * every).UnixNano()
			if n := ran[fmt.Sprintf("%s %d", id, at)]; n != 1 {
				t.Errorf("%s fire %d ran %d times by the tasks' record, want 1", id, k, n)
			}
			if stored[at] != 1 {
				t.Errorf("%s fire %d has %d runs in the store, want 1", id, k, stored[at])
			}
		}
		if len(runs) != fires {
			t.Errorf("%s has %d runs, want %d", id, len(runs), fires)
		}
	}
}

// readRecord counts the "job scheduled" lines of a child's record.
func readRecord(t *testing.T, path string, ran map[string]int) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ran[sc.Text()]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// runChild is one scheduler process of TestProcessesExactlyOnce: it runs
// the jobs stored in path until SUNDIAL_SQLITE_UNTIL, recording every run
// its tasks make, and returns the exit code.
func runChild(path string) int {
	if err := child(path); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func child(path string) error {
	ctx := context.Background()
	until, err := time.Parse(time.RFC3339Nano, os.Getenv("SUNDIAL_SQLITE_UNTIL"))
	if err != nil {
		return err
	}
	out, err := os.Create(os.Getenv("SUNDIAL_SQLITE_OUT"))
	if err != nil {
		return err
	}
	defer out.Close()
	st, err := sqlitestore.New(ctx, sqlitestore.Config{Path: path})
	if err != nil {
		return err
	}
	defer st.Close()
	// Other processes' changes come with no notice: poll often.
	s, err := sundial.New(sundial.Config{Store: st, NodeID: os.Getenv("SUNDIAL_SQLITE_NODE"), PollInterval: 50 * time.Millisecond})
	if err != nil {
		return err
	}
	var mu sync.Mutex
	s.Handle("noop", func(ctx context.Context, r *sundial.Run) error {
		mu.Lock()
		defer mu.Unlock()
		_, err := fmt.Fprintln(out, r.JobID+" "+strconv.FormatInt(r.Scheduled.UnixNano(), 10))
		return err
	})
	if err := s.Start(ctx); err != nil {
		return err
	}
	time.Sleep(time.Until(until))
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if cut, err := s.Shutdown(sctx); err != nil || len(cut) > 0 {
		return fmt.Errorf("shutdown: %v, %d runs cut short", err, len(cut))
	}
	return nil
}
