package clusterbench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime/pprof"
	"time"
)

// childEnv carries a replica's spec from the parent to the child.
const childEnv = "CLUSTERBENCH_CHILD"

// Lines a child prints on its standard output for the parent.
const (
	readyPrefix = "CLUSTERBENCH-READY "
	donePrefix  = "CLUSTERBENCH-DONE"
)

// childSpec is what one replica process runs.
type childSpec struct {
	Env    Env
	Node   string
	Record string    // the record file
	Until  time.Time // stop then
	// Profile, when set, is where the replica writes a CPU profile of its
	// run (from Start to Stop).
	Profile string
}

// MaybeChild runs a replica and exits when this process was started as
// one by Run; otherwise it returns at once. Call it first in main (or
// TestMain) of any binary that calls Run.
func MaybeChild() {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return
	}
	if err := runChild(spec); err != nil {
		fmt.Fprintln(os.Stderr, "clusterbench child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(spec string) error {
	var c childSpec
	if err := json.Unmarshal([]byte(spec), &c); err != nil {
		return err
	}
	lib, err := LibNamed(c.Env.Lib)
	if err != nil {
		return err
	}
	rec, err := NewRecorder(c.Record)
	if err != nil {
		return err
	}
	ctx := context.Background()
	t0 := time.Now()
	r, err := lib.NewReplica(ctx, &c.Env, c.Node, rec)
	if err != nil {
		return fmt.Errorf("%s: declare the jobs: %w", c.Node, err)
	}
	declared := time.Since(t0)
	stopProfile, err := startProfile(c.Profile)
	if err != nil {
		return err
	}
	if err := r.Start(ctx); err != nil {
		return fmt.Errorf("%s: start: %w", c.Node, err)
	}
	fmt.Printf("%s%d %d\n", readyPrefix, declared, time.Now().UnixNano())
	time.Sleep(time.Until(c.Until))
	stopProfile()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := r.Stop(sctx); err != nil {
		return fmt.Errorf("%s: stop: %w", c.Node, err)
	}
	if err := rec.Close(); err != nil {
		return fmt.Errorf("%s: record: %w", c.Node, err)
	}
	fmt.Println(donePrefix)
	return nil
}

// startProfile starts a CPU profile into path ("": none) and returns
// what stops it.
func startProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
