// Command schedtable runs sundial's scheduler side by side with
// robfig/cron v3, gocron v2 and go-quartz on three scenarios (idle jobs,
// jobs firing every second, one-offs due at one instant) and prints a
// Markdown table per scenario, with the best peer and the ratio between it
// and sundial. Each library runs each scenario in a fresh child process
// (the command re-executes itself), so heaps and CPU time do not mix.
//
//	cd bench && go run ./cmd/schedtable -idle-jobs 100000 -fire-jobs 10000 -fire-for 10s -once-jobs 100000
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/sundialhq/sundial/bench/schedbench"
)

// resultPrefix marks the child's result line on its standard output
// (libraries may print there too).
const resultPrefix = "SCHEDBENCH-RESULT "

type flags struct {
	libs, scenarios  string
	idleJobs         int
	idleFor, settle  time.Duration
	fireJobs         string
	fireEvery        time.Duration
	fireFor          time.Duration
	onceJobs         int
	budget, lead     time.Duration
	drain, onceDrain time.Duration
	sundialWorkers   int
	raw, profileDir  string
	child            string
}

func main() {
	var f flags
	flag.StringVar(&f.libs, "libs", "sundial,robfig,gocron,quartz", "libraries to run, comma-separated")
	flag.StringVar(&f.scenarios, "scenarios", "idle,fires,once", "scenarios to run, comma-separated")
	flag.IntVar(&f.idleJobs, "idle-jobs", 1000000, "idle: interval jobs registered (1 h, none fires)")
	flag.DurationVar(&f.idleFor, "idle-for", 10*time.Second, "idle: how long idle CPU is measured")
	flag.DurationVar(&f.settle, "settle", 3*time.Second, "idle: wait after Start before measuring")
	flag.StringVar(&f.fireJobs, "fire-jobs", "10000,50000", "fires: job counts, comma-separated")
	flag.DurationVar(&f.fireEvery, "fire-every", time.Second, "fires: the jobs' interval")
	flag.DurationVar(&f.fireFor, "fire-for", 20*time.Second, "fires: the window whose fires are counted")
	flag.IntVar(&f.onceJobs, "once-jobs", 100000, "once: one-off jobs due at the same instant")
	flag.DurationVar(&f.budget, "budget", time.Minute, "registration time budget per library and scenario")
	flag.DurationVar(&f.lead, "lead", 3*time.Second, "fires, once: least time from the start of registration to the first fire (lengthened and retried for slow registration)")
	flag.DurationVar(&f.drain, "drain", 10*time.Second, "fires: wait after the window for late fires")
	flag.DurationVar(&f.onceDrain, "once-drain", time.Minute, "once: wait after the due instant for the last start")
	flag.IntVar(&f.sundialWorkers, "sundial-workers", 0, "sundial's default pool size; 0 keeps the library default (10)")
	flag.StringVar(&f.raw, "raw", "", "also write every result as JSON to this file")
	flag.StringVar(&f.profileDir, "cpuprofile-dir", "", "write a CPU profile of each run's measured phase into this directory")
	flag.StringVar(&f.child, "child", "", "internal: run one scenario (JSON job) in this process and print its result")
	flag.Parse()

	if f.child != "" {
		os.Exit(runChild(f.child))
	}
	if err := runParent(f, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "schedtable:", err)
		os.Exit(1)
	}
}

// job is what the parent asks a child to run.
type job struct {
	Scenario string
	Lib      string
	Config   schedbench.Config
}

func runChild(spec string) int {
	var j job
	if err := json.Unmarshal([]byte(spec), &j); err != nil {
		fmt.Fprintln(os.Stderr, "schedtable -child:", err)
		return 2
	}
	lib, err := schedbench.LibNamed(j.Lib)
	if err != nil {
		fmt.Fprintln(os.Stderr, "schedtable -child:", err)
		return 2
	}
	r := schedbench.Run(j.Scenario, lib, j.Config)
	out, _ := json.Marshal(r)
	fmt.Printf("\n%s%s\n", resultPrefix, out)
	return 0
}

// runOne runs j in a child process, lengthening the lead and retrying
// when registration took longer than it.
func runOne(j job) schedbench.Result {
	for try := 1; ; try++ {
		r := runChildProcess(j)
		if r.Status != schedbench.StatusLeadTooShort || try == 4 {
			return r
		}
		// Registration was cut short: guess its full time as if it were
		// quadratic (go-quartz's is), cap the lead just past the budget
		// (the run then ends over budget), and try again.
		est := r.Register
		if r.Registered > 0 && r.Registered < r.Jobs {
			f := float64(r.Jobs) / float64(r.Registered)
			est = time.Duration(float64(r.Register) * f * f)
		}
		lead := est*5/4 + 3*time.Second
		if c := j.Config.Budget + 3*time.Second; j.Config.Budget > 0 && lead > c {
			lead = c
		}
		if lead <= j.Config.Lead {
			lead = 2 * j.Config.Lead
		}
		fmt.Fprintf(os.Stderr, "  registration reached %d of %d jobs in %v, too close to the first fire; again with a lead of %v\n",
			r.Registered, r.Jobs, r.Register.Round(time.Millisecond), lead.Round(time.Second))
		j.Config.Lead = lead
	}
}

func runChildProcess(j job) schedbench.Result {
	fail := func(err error) schedbench.Result {
		return schedbench.Result{Lib: j.Lib, Scenario: j.Scenario, Jobs: j.Config.Jobs, Status: schedbench.StatusError, Err: err.Error()}
	}
	self, err := os.Executable()
	if err != nil {
		return fail(err)
	}
	spec, err := json.Marshal(j)
	if err != nil {
		return fail(err)
	}
	c := j.Config
	limit := c.Budget + c.Lead + c.For + c.Settle + c.Drain + 3*time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, self, "-child", string(spec))
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = os.Stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return fail(fmt.Errorf("killed after %v", limit))
	}
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), resultPrefix); ok {
			var r schedbench.Result
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				return fail(err)
			}
			return r
		}
	}
	if err == nil {
		err = errors.New("the child printed no result")
	}
	return fail(err)
}

func runParent(f flags, w io.Writer) error {
	libs := strings.Split(f.libs, ",")
	if libs[0] != "sundial" {
		return errors.New("-libs must start with sundial (the ratios compare against it)")
	}
	for _, l := range libs {
		if _, err := schedbench.LibNamed(l); err != nil {
			return err
		}
	}
	var fireJobs []int
	for _, s := range strings.Split(f.fireJobs, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("-fire-jobs: %v", err)
		}
		fireJobs = append(fireJobs, n)
	}
	opts := schedbench.Options{SundialWorkers: f.sundialWorkers}
	var all []schedbench.Result
	run := func(sc string, cfg schedbench.Config) []schedbench.Result {
		var rs []schedbench.Result
		for _, l := range libs {
			fmt.Fprintf(os.Stderr, "%s, %s jobs, %s ...\n", sc, thousands(int64(cfg.Jobs)), l)
			t0 := time.Now()
			c := cfg
			if f.profileDir != "" {
				c.CPUProfile = filepath.Join(f.profileDir, fmt.Sprintf("%s-%d-%s.pprof", sc, cfg.Jobs, l))
			}
			r := runOne(job{Scenario: sc, Lib: l, Config: c})
			fmt.Fprintf(os.Stderr, "  %s in %v %s\n", r.Status, time.Since(t0).Round(100*time.Millisecond), r.Err)
			rs = append(rs, r)
			all = append(all, r)
		}
		return rs
	}

	workers := "library default (10)"
	if f.sundialWorkers > 0 {
		workers = strconv.Itoa(f.sundialWorkers)
	}
	fmt.Fprintf(w, "Measured %s on %s, %d CPUs (%s), Go %s; sundial %s; each library and scenario in a fresh process; sundial's worker pool: %s.\n\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), runtime.GOARCH,
		strings.TrimPrefix(runtime.Version(), "go"), sundialVersion(), workers)
	loadBefore := loadAvg()
	fmt.Fprintf(w, "Ratio: best peer ÷ sundial for rows where lower is better, sundial ÷ best peer for fires/s; above 1× means sundial is ahead. For lateness, the best peer is the best of those that ran every due fire.\n\n")

	for _, sc := range strings.Split(f.scenarios, ",") {
		switch sc {
		case schedbench.ScenarioIdle:
			cfg := schedbench.Config{Jobs: f.idleJobs, Every: time.Hour, For: f.idleFor, Settle: f.settle, Budget: f.budget, Options: opts}
			idleTable(w, cfg, run(sc, cfg))
		case schedbench.ScenarioFires:
			for _, n := range fireJobs {
				cfg := schedbench.Config{Jobs: n, Every: f.fireEvery, For: f.fireFor, Lead: f.lead, Drain: f.drain, Budget: f.budget, Options: opts}
				firesTable(w, cfg, run(sc, cfg))
			}
		case schedbench.ScenarioOnce:
			cfg := schedbench.Config{Jobs: f.onceJobs, Lead: f.lead, Drain: f.onceDrain, Budget: f.budget, Options: opts}
			onceTable(w, cfg, run(sc, cfg))
		default:
			return fmt.Errorf("no scenario %q", sc)
		}
	}
	fmt.Fprintf(w, "Load average (1 min) before the runs: %s; after: %s (other work on the machine makes the figures noisier).\n", loadBefore, loadAvg())
	if f.raw != "" {
		data, err := json.MarshalIndent(all, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(f.raw, data, 0o644)
	}
	return nil
}

// sundialVersion names the commit of the sundial checkout the command is
// run from (bench's parent directory), and whether the engine has
// uncommitted changes; "(version unknown)" outside a Git checkout.
func sundialVersion() string {
	out, err := exec.Command("git", "-C", "..", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "(version unknown)"
	}
	v := "at commit " + strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", "..", "status", "--porcelain", "--", ".", ":!bench").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		v += " with uncommitted changes"
	}
	return v
}

// loadAvg is the 1-minute load average, or "unknown".
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
