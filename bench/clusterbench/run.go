package clusterbench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"time"
)

// Config is one run: a library, a job count, the windows and whether a
// replica is killed.
type Config struct {
	Jobs  int
	Nodes int           // replicas (0: 3)
	Every time.Duration // the jobs' interval (0: 1 s)
	// Lead is the time from starting the replicas to the first fire,
	// which must cover declaring the jobs (0: 3 s + 1.5 ms per job).
	Lead time.Duration
	// Warmup separates the first fire from the steady window (0: 3 s).
	Warmup time.Duration
	// For is the steady window (0: 10 s).
	For time.Duration
	// Kill SIGKILLs a replica one interval after the steady window and
	// measures the fires scheduled in the AfterKill that follows it (0:
	// 30 s).
	Kill      bool
	AfterKill time.Duration
	// Drain is how long the replicas keep running after the last
	// measured fire (0: 3 s).
	Drain time.Duration
	// Same puts every job's first fire on the same instant; otherwise
	// the phases are spread over the interval.
	Same     bool
	Postgres string // URL (empty: DefaultPostgres)
	Redis    string // URL (empty: DefaultRedis)
	Options  Options
	// Keep leaves the run's directory (records, replica logs) and the
	// store's data (schema, keys) in place.
	Keep bool
	// ProfileDir, when set, receives a CPU profile of each replica's run,
	// named <lib>-<jobs>-node-<i>.pprof (the killed one's is lost).
	ProfileDir string
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

func (c Config) withDefaults() Config {
	c.Nodes = or(c.Nodes, 3)
	c.Every = or(c.Every, time.Second)
	c.Lead = or(c.Lead, 3*time.Second+time.Duration(c.Jobs)*1500*time.Microsecond)
	c.Warmup = or(c.Warmup, 3*time.Second)
	c.For = or(c.For, 10*time.Second)
	c.AfterKill = or(c.AfterKill, 30*time.Second)
	c.Drain = or(c.Drain, 3*time.Second)
	c.Postgres = or(c.Postgres, DefaultPostgres)
	c.Redis = or(c.Redis, DefaultRedis)
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// Result is one run's outcome.
type Result struct {
	Lib    string
	Config Config `json:"-"`
	Jobs   int
	Nodes  int
	Every  time.Duration
	Killed bool
	// Err says why the run failed; empty when it ran.
	Err string
	// Declare is the slowest replica's time to declare its jobs.
	Declare time.Duration
	// ReplicaErrs are the replicas' failures (a killed one's excepted).
	ReplicaErrs []string
	Figures
}

// OK reports whether the run produced figures.
func (r *Result) OK() bool { return r.Err == "" }

// Run runs lib through cfg: it prepares the backend, starts the
// replicas, kills one if asked, waits for them, merges their records and
// cleans up.
func Run(ctx context.Context, lib Lib, cfg Config) Result {
	cfg = cfg.withDefaults()
	res := Result{Lib: lib.Name, Config: cfg, Jobs: cfg.Jobs, Nodes: cfg.Nodes, Every: cfg.Every, Killed: cfg.Kill}
	dir, err := os.MkdirTemp("", "clusterbench-"+lib.Name+"-")
	if err != nil {
		res.Err = err.Error()
		return res
	}
	// Each run has a schema and key prefix of its own: a kept run's data
	// must not meet the next run's.
	seq := runSeq.Add(1)
	env := &Env{Lib: lib.Name, Jobs: cfg.Jobs, Every: cfg.Every, Spread: !cfg.Same, Postgres: cfg.Postgres, Redis: cfg.Redis,
		Schema: schemaName(lib.Name, seq), Prefix: fmt.Sprintf("clusterbench:%s:%d:%d:", lib.Name, os.Getpid(), seq), Dir: dir, Options: cfg.Options}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	} else {
		fmt.Fprintf(cfg.Log, "  records and logs in %s; the store's data in schema %s or under keys %s\n", dir, env.Schema, env.Prefix)
	}
	if lib.Setup != nil {
		if err := lib.Setup(ctx, env); err != nil {
			res.Err = "setup: " + err.Error()
			return res
		}
	}
	if lib.Teardown != nil && !cfg.Keep {
		defer func() {
			if err := lib.Teardown(context.Background(), env); err != nil {
				fmt.Fprintf(cfg.Log, "  teardown: %v\n", err)
			}
		}()
	}
	if err := runReplicas(ctx, lib, env, cfg, &res); err != nil {
		res.Err = err.Error()
	}
	return res
}

var nonWord = regexp.MustCompile(`[^a-z0-9_]`)

// schemaName is a PostgreSQL schema private to this process, lib and run.
func schemaName(lib string, seq int64) string {
	return nonWord.ReplaceAllString(strings.ToLower(fmt.Sprintf("clusterbench_%s_%d_%d", lib, os.Getpid(), seq)), "_")
}

// runSeq numbers the runs of this process.
var runSeq atomic.Int64

// plan fixes the windows once the anchor is known.
func plan(env *Env, cfg Config) *Plan {
	p := &Plan{Env: *env, Nodes: cfg.Nodes}
	p.From = env.Anchor.Add(cfg.Warmup)
	p.To = p.From.Add(cfg.For)
	p.End = p.To
	if cfg.Kill {
		p.Kill = p.To.Add(cfg.Every)
		p.End = p.To.Add(cfg.AfterKill)
	}
	return p
}

func recordPath(dir string, node int) string {
	return filepath.Join(dir, fmt.Sprintf("node-%d.record", node))
}
