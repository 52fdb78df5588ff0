package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sundialhq/sundial"
	"github.com/sundialhq/sundial/store/pgstore"
)

// jobIDs are the service's jobs, each declared by every replica.
var jobIDs = []string{"send-reminders", "refresh-cache", "report-metrics"}

// replica is one replica of the service: it runs the scheduler on the
// shared store until the time until, and its tasks report each fire on
// out as "FIRE job scheduled node started fence attempt".
func replica(node, url, schema, until string, out io.Writer) error {
	deadline, err := time.Parse(time.RFC3339Nano, until)
	if err != nil {
		return err
	}
	ctx := context.Background()
	st, err := pgstore.New(ctx, pgstore.Config{URL: url, Schema: schema})
	if err != nil {
		return err
	}
	defer st.Close()
	s, err := sundial.New(sundial.Config{Store: st, NodeID: node, HeartbeatTTL: 5 * time.Second, HeartbeatInterval: time.Second})
	if err != nil {
		return err
	}
	r := &reporter{out: out}
	every := sundial.MustCron("* * * * * *", nil) // at every whole second
	for _, id := range jobIDs {
		// Every replica declares the same jobs: the store keeps one of each.
		opts := &sundial.JobOptions{ID: id, Retry: sundial.RetryPolicy{Attempts: 2}}
		if _, err := s.Schedule(ctx, r.task, every, opts); err != nil {
			return err
		}
	}
	if err := s.Start(ctx); err != nil {
		return err
	}
	time.Sleep(time.Until(deadline))
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = s.Shutdown(sctx)
	return err
}

// reporter is the jobs' task: a little work, and a line for the parent.
type reporter struct {
	mu  sync.Mutex
	out io.Writer
}

func (r *reporter) task(ctx context.Context, run *sundial.Run) error {
	started := time.Now()
	time.Sleep(20 * time.Millisecond) // the work
	r.mu.Lock()
	defer r.mu.Unlock()
	_, err := fmt.Fprintf(r.out, "FIRE %s %d %s %d %d %d\n", run.JobID, run.Scheduled.UnixNano(), run.Node, started.UnixNano(), run.Fence, run.Attempt)
	return err
}
