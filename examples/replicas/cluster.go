package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/sundialhq/sundial/store/pgstore"
)

// cluster is the parent: it starts the replicas, prints what their tasks
// report, and counts.
type cluster struct {
	url, schema string
	out         io.Writer
	procs       []*exec.Cmd
	readers     sync.WaitGroup
	mu          sync.Mutex
	fires       map[fireKey][]fire
	killed      string
}

// fireKey identifies a fire: a job and a scheduled time.
type fireKey struct {
	job       string
	scheduled int64
}

// fire is one execution of a fire, as its task reported it.
type fire struct {
	node           string
	started, fence int64
	attempt        int
}

// prepare creates and migrates the schema before the replicas open it.
func (c *cluster) prepare(ctx context.Context) error {
	st, err := pgstore.New(ctx, pgstore.Config{URL: c.url, Schema: c.schema})
	if err != nil {
		return err
	}
	c.fires = map[fireKey][]fire{}
	return st.Close()
}

// drop removes the example's schema.
func (c *cluster) drop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.url)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replicas: drop the schema:", err)
		return
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP SCHEMA "+pgx.Identifier{c.schema}.Sanitize()+" CASCADE"); err != nil {
		fmt.Fprintln(os.Stderr, "replicas: drop the schema:", err)
	}
}

// start starts n replicas of this program, running until until.
func (c *cluster) start(n int, until time.Time) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	for i := range n {
		cmd := exec.Command(self)
		cmd.Env = append(os.Environ(), nodeEnv+"="+fmt.Sprintf("node-%d", i), urlEnv+"="+c.url,
			schemaEnv+"="+c.schema, untilEnv+"="+until.Format(time.RFC3339Nano))
		cmd.Stderr = os.Stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		c.procs = append(c.procs, cmd)
		c.readers.Go(func() { c.read(stdout) })
	}
	return nil
}

// read prints and keeps the fires one replica reports.
func (c *cluster) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var job, node string
		var sched, started, fence int64
		var attempt int
		if _, err := fmt.Sscanf(sc.Text(), "FIRE %s %d %s %d %d %d", &job, &sched, &node, &started, &fence, &attempt); err != nil {
			fmt.Fprintln(c.out, sc.Text())
			continue
		}
		f := fire{node: node, started: started, fence: fence, attempt: attempt}
		c.mu.Lock()
		c.fires[fireKey{job, sched}] = append(c.fires[fireKey{job, sched}], f)
		c.mu.Unlock()
		line := fmt.Sprintf("%s  %-15s ran on %s  %4d ms late  fence %d",
			time.Unix(0, sched).Format("15:04:05.000"), job, node, time.Duration(started-sched).Milliseconds(), fence)
		if attempt > 1 {
			line += fmt.Sprintf("  (attempt %d)", attempt)
		}
		fmt.Fprintln(c.out, line)
	}
}

// killLast SIGKILLs the last replica after d.
func (c *cluster) killLast(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
		return
	case <-time.After(d):
	}
	last := c.procs[len(c.procs)-1]
	c.mu.Lock()
	c.killed = fmt.Sprintf("node-%d", len(c.procs)-1)
	c.mu.Unlock()
	if err := last.Process.Kill(); err == nil {
		fmt.Fprintf(c.out, "*** %s SIGKILLed at %s\n", c.killed, time.Now().Format("15:04:05.000"))
	}
}

// wait waits for the replicas to end (or kills them when ctx ends).
func (c *cluster) wait(ctx context.Context) {
	stop := context.AfterFunc(ctx, func() {
		for _, p := range c.procs {
			_ = p.Process.Kill()
		}
	})
	defer stop()
	c.readers.Wait()
	for _, p := range c.procs {
		_ = p.Wait()
	}
}
