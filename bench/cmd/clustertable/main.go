// Command clustertable runs the multi-replica scenario of
// bench/clusterbench for each library and job count, and prints a
// Markdown table per job count: fires/s, fires run twice, fires never
// run, lateness, and, where a replica is SIGKILLed, the failover. Each
// replica is a child process of this command.
//
//	cd bench && go run ./cmd/clustertable -jobs 100,1000,5000
//
// PostgreSQL and Redis come from -postgres and -redis (default:
// SUNDIAL_TEST_POSTGRES_URL and SUNDIAL_TEST_REDIS_URL, else the local
// servers); each run works in a schema and under a key prefix of its own
// and removes them afterwards.
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sundialhq/sundial/bench/clusterbench"
)

type flags struct {
	libs, jobs, killJobs     string
	nodes                    int
	every, warmup, window    time.Duration
	afterKill, drain, lead   time.Duration
	same, keep               bool
	postgres, redis, rawPath string
	profileDir, fromRaw      string
	opts                     clusterbench.Options
}

func main() {
	clusterbench.MaybeChild()
	var f flags
	flag.StringVar(&f.libs, "libs", "sundial-pg,sundial-redis,river,gocron+lock,gocron+elector", "libraries, comma-separated, sundial's first (also: sundial-sqlite)")
	flag.StringVar(&f.jobs, "jobs", "100,1000,5000", "job counts, comma-separated: each job fires every -every")
	flag.StringVar(&f.killJobs, "kill-jobs", "100", `job counts whose runs SIGKILL a replica after the steady window ("all", or "" for none)`)
	flag.IntVar(&f.nodes, "nodes", 3, "replicas, each a process")
	flag.DurationVar(&f.every, "every", time.Second, "the jobs' interval")
	flag.DurationVar(&f.warmup, "warmup", 3*time.Second, "from the first fire to the steady window")
	flag.DurationVar(&f.window, "for", 10*time.Second, "the steady window")
	flag.DurationVar(&f.afterKill, "after-kill", 25*time.Second, "the failover window (the kill is one interval into it)")
	flag.DurationVar(&f.drain, "drain", 3*time.Second, "replicas run on this long after the last measured fire")
	flag.DurationVar(&f.lead, "lead", 0, "from starting the replicas to the first fire (0: 3 s + 1.5 ms per job; doubled and retried when too short)")
	flag.BoolVar(&f.same, "same", false, "every job's first fire at the same instant (default: phases spread over the interval)")
	flag.StringVar(&f.postgres, "postgres", clusterbench.DefaultPostgres, "PostgreSQL URL")
	flag.StringVar(&f.redis, "redis", clusterbench.DefaultRedis, "Redis URL")
	flag.IntVar(&f.opts.SundialWorkers, "sundial-workers", 64, "sundial: default pool size per replica")
	flag.DurationVar(&f.opts.HeartbeatTTL, "heartbeat-ttl", 5*time.Second, "sundial: Config.HeartbeatTTL (heartbeats every fifth of it)")
	flag.DurationVar(&f.opts.JobLease, "job-lease", 0, "sundial: Config.JobLease (0: the library's default)")
	flag.DurationVar(&f.opts.ClaimAhead, "claim-ahead", 0, "sundial: Config.ClaimAhead (0: the library's default)")
	flag.IntVar(&f.opts.SundialRetries, "sundial-retries", 2, "sundial: the jobs' RetryPolicy.Attempts")
	flag.BoolVar(&f.opts.SundialLocalEvents, "sundial-local-events", false, "sundial: Config.LocalEvents (do not share events between nodes)")
	flag.IntVar(&f.opts.RiverWorkers, "river-workers", 100, "River: MaxWorkers of the default queue per replica")
	flag.DurationVar(&f.opts.LockTTL, "lock-ttl", 5*time.Second, "gocron: TTL of the Redis lock and of the leader lease")
	flag.StringVar(&f.rawPath, "raw", "", "also write every result as JSON to this file")
	flag.BoolVar(&f.keep, "keep", false, "keep each run's records, replica logs and store data (where is printed)")
	flag.StringVar(&f.fromRaw, "from-raw", "", "print the tables of a -raw file instead of running")
	flag.StringVar(&f.profileDir, "cpuprofile-dir", "", "write a CPU profile of each replica's run into this directory")
	flag.Parse()
	run := run
	if f.fromRaw != "" {
		run = reprint
	}
	if err := run(f, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "clustertable:", err)
		os.Exit(1)
	}
}

func run(f flags, w io.Writer) error {
	libs, err := parseLibs(f.libs)
	if err != nil {
		return err
	}
	counts, err := parseInts(f.jobs)
	if err != nil {
		return fmt.Errorf("-jobs: %v", err)
	}
	kills, err := parseKills(f.killJobs, counts)
	if err != nil {
		return fmt.Errorf("-kill-jobs: %v", err)
	}
	fmt.Fprintf(w, "Measured %s on %s, %d CPUs (%s), Go %s; sundial %s; %d replicas, each a process, with PostgreSQL and Redis on the same machine.\n\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), runtime.GOARCH, strings.TrimPrefix(runtime.Version(), "go"), sundialVersion(), f.nodes)
	loadBefore := loadAvg()
	var all []clusterbench.Result
	for _, n := range counts {
		cfg := clusterbench.Config{Jobs: n, Nodes: f.nodes, Every: f.every, Lead: f.lead, Warmup: f.warmup, For: f.window,
			Kill: slices.Contains(kills, n), AfterKill: f.afterKill, Drain: f.drain, Same: f.same,
			Postgres: f.postgres, Redis: f.redis, Options: f.opts, Keep: f.keep, ProfileDir: f.profileDir, Log: os.Stderr}
		var rs []clusterbench.Result
		for _, lib := range libs {
			fmt.Fprintf(os.Stderr, "%s, %s jobs, kill %v ...\n", lib.Name, thousands(int64(n)), cfg.Kill)
			r := runOne(lib, cfg)
			fmt.Fprintf(os.Stderr, "  %s\n", summary(r))
			rs = append(rs, r)
		}
		all = append(all, rs...)
		printTable(w, cfg, rs)
	}
	fmt.Fprintf(w, "Load average (1 min) before the runs: %s; after: %s.\n", loadBefore, loadAvg())
	if f.rawPath != "" {
		data, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(f.rawPath, data, 0o644)
	}
	return nil
}

// reprint prints the tables of the results in f.fromRaw, in their order.
func reprint(f flags, w io.Writer) error {
	data, err := os.ReadFile(f.fromRaw)
	if err != nil {
		return err
	}
	var all []clusterbench.Result
	if err := json.Unmarshal(data, &all); err != nil {
		return fmt.Errorf("%s: %v", f.fromRaw, err)
	}
	for from := 0; from < len(all); {
		to := from + 1
		for to < len(all) && all[to].Jobs == all[from].Jobs {
			to++
		}
		r := all[from]
		cfg := clusterbench.Config{Jobs: r.Jobs, Nodes: r.Nodes, Every: cmp.Or(r.Every, time.Second), For: r.Steady.Span, Kill: r.Killed, AfterKill: r.After.Span}
		printTable(w, cfg, all[from:to])
		from = to
	}
	return nil
}

// declarePerJob remembers, per library, how long its slowest replica
// took per job to declare them, so the next job count's lead fits.
var declarePerJob = map[string]time.Duration{}

// runOne runs lib, with a lead scaled from the library's last declaring
// time (unless -lead is set), and doubles the lead up to twice when
// declaring the jobs took longer than it.
func runOne(lib clusterbench.Lib, cfg clusterbench.Config) clusterbench.Result {
	if per, ok := declarePerJob[lib.Name]; ok && cfg.Lead == 0 {
		cfg.Lead = 3*time.Second + 2*per*time.Duration(cfg.Jobs)
	}
	for try := 1; ; try++ {
		r := clusterbench.Run(context.Background(), lib, cfg)
		if r.OK() {
			declarePerJob[lib.Name] = r.Declare / time.Duration(cfg.Jobs)
		}
		if !strings.Contains(r.Err, clusterbench.ErrLeadTooShort.Error()) || try == 3 {
			return r
		}
		cfg.Lead = 2 * max(cfg.Lead, 3*time.Second+time.Duration(cfg.Jobs)*1500*time.Microsecond)
		fmt.Fprintf(os.Stderr, "  %s; again with a lead of %v\n", r.Err, cfg.Lead)
	}
}

func summary(r clusterbench.Result) string {
	if !r.OK() {
		return "error: " + r.Err
	}
	s := fmt.Sprintf("steady: %d/%d ran, %d twice, p99 %v", r.Steady.Ran, r.Steady.Expected, r.Steady.Duplicates, r.Steady.P99.Round(time.Millisecond))
	if r.Killed {
		s += fmt.Sprintf("; after the kill of %s: %d missed, %d twice, gap max %v", r.Failover.Victim, r.After.Missed, r.After.Duplicates, r.Failover.GapMax.Round(time.Millisecond))
	}
	return s
}

func parseLibs(s string) ([]clusterbench.Lib, error) {
	var libs []clusterbench.Lib
	for _, name := range strings.Split(s, ",") {
		lib, err := clusterbench.LibNamed(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		libs = append(libs, lib)
	}
	if !isSundial(libs[0].Name) {
		return nil, errors.New("-libs must start with a sundial library (the ratios compare against it)")
	}
	return libs, nil
}

func parseInts(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a job count", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}

func parseKills(s string, counts []int) ([]int, error) {
	switch strings.TrimSpace(s) {
	case "":
		return nil, nil
	case "all":
		return counts, nil
	}
	return parseInts(s)
}

func isSundial(lib string) bool { return strings.HasPrefix(lib, "sundial") }

// sundialVersion names the commit of the sundial checkout the command is
// run from (bench's parent directory), and whether the engine has
// uncommitted changes.
func sundialVersion() string {
	out, err := exec.Command("git", "-C", "..", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "(version unknown)"
	}
	v := "at commit " + strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", "..", "status", "--porcelain", "--", ".", ":!bench").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		v += " with uncommitted changes"
	}
	return v
}

func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}

func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimLeft(name, " \t:"))
		}
	}
	return "unknown CPU"
}
