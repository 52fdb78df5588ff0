// Command replicas runs three replicas of a small service on one
// PostgreSQL database and shows that each fire of its jobs runs once, on
// one replica, though every replica schedules them.
//
//	go run ./examples/replicas
//	go run ./examples/replicas -postgres 'postgres://user@host:5432/db?sslmode=disable' -for 20s -kill
//
// The command starts itself three times as child processes (node-0,
// node-1, node-2), each a "service" that opens store/pgstore on the same
// database and declares the same three jobs in code, every second. For
// about 10 s (-for) it prints every fire: its job, its scheduled time,
// the replica that ran it, how late it started and its fencing token.
// Then it counts: fires per job and per replica, fires that ran twice by
// the tasks' own output, and runs per fire in the store's history. It
// exits with status 1 when any fire ran twice.
//
// With -kill, node-2 is SIGKILLed halfway: its share of the work moves to
// the other two, and a run it held is retried once its heartbeat expires
// (HeartbeatTTL 5 s here).
//
// PostgreSQL comes from -postgres, by default SUNDIAL_TEST_POSTGRES_URL or
// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. The example
// works in a schema of its own (replicas_example_<pid>) and drops it when
// it ends.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// The child's configuration comes in these variables.
const (
	nodeEnv   = "REPLICAS_NODE"
	urlEnv    = "REPLICAS_POSTGRES"
	schemaEnv = "REPLICAS_SCHEMA"
	untilEnv  = "REPLICAS_UNTIL"
)

func main() {
	if node := os.Getenv(nodeEnv); node != "" {
		if err := replica(node, os.Getenv(urlEnv), os.Getenv(schemaEnv), os.Getenv(untilEnv), os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", node, err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "replicas:", err)
		os.Exit(1)
	}
}

func defaultURL() string {
	if u := os.Getenv("SUNDIAL_TEST_POSTGRES_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("replicas", flag.ContinueOnError)
	url := fs.String("postgres", defaultURL(), "PostgreSQL URL")
	n := fs.Int("replicas", 3, "replicas to start")
	span := fs.Duration("for", 10*time.Second, "how long the replicas run")
	kill := fs.Bool("kill", false, "SIGKILL the last replica halfway")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := &cluster{url: *url, schema: fmt.Sprintf("replicas_example_%d", os.Getpid()), out: out}
	if err := c.prepare(ctx); err != nil {
		return err
	}
	defer c.drop()
	if err := c.start(*n, time.Now().Add(*span)); err != nil {
		return err
	}
	fmt.Fprintf(out, "%d replicas started on schema %s; every fire of every job, as the tasks report it:\n\n", *n, c.schema)
	if *kill {
		go c.killLast(ctx, *span/2)
	}
	c.wait(ctx)
	return c.summarize(ctx)
}
