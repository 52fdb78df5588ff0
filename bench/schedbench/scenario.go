package schedbench

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The scenarios.
const (
	ScenarioIdle  = "idle"  // many interval jobs that do not fire
	ScenarioFires = "fires" // many jobs firing every interval
	ScenarioOnce  = "once"  // many one-off jobs due at the same instant
)

// Scenarios lists them in the order the tables show them.
var Scenarios = []string{ScenarioIdle, ScenarioFires, ScenarioOnce}

// Config describes one run of one scenario.
type Config struct {
	Jobs int
	// Every is the jobs' interval: 1 h for idle (none fires), 1 s for
	// fires; unused by once.
	Every time.Duration
	// For is how long idle CPU is measured (idle), or the window whose
	// fires are counted (fires); unused by once.
	For time.Duration
	// Settle is how long idle waits after Start before measuring, so
	// start-up work is not counted as idle.
	Settle time.Duration
	// Lead is the least time from the start of registration to the first
	// fire (fires, once). A run whose registration outlasts it ends with
	// StatusLeadTooShort, to be run again with a longer lead.
	Lead time.Duration
	// Drain is how long to wait after the window (fires) or the due
	// instant (once) for fires that run late.
	Drain time.Duration
	// Budget bounds registration; a library slower than that ends with
	// StatusOverBudget.
	Budget time.Duration
	// Options go to the adapter.
	Options Options
	// CPUProfile, when set, is a file to write a CPU profile of the
	// measured phase to (from Start to the end of the measurement).
	CPUProfile string `json:",omitempty"`
}

// Result statuses.
const (
	StatusOK           = "ok"
	StatusOverBudget   = "over budget"
	StatusLeadTooShort = "lead too short"
	StatusError        = "error"
)

// Result is what one run of one scenario measured. Durations are in
// nanoseconds in JSON.
type Result struct {
	Lib      string
	Scenario string
	Jobs     int
	Status   string
	Err      string `json:",omitempty"`

	Registered int           // jobs added (fewer than Jobs when over budget)
	Register   time.Duration // time to add them

	// idle
	HeapRegistered int64         `json:",omitempty"` // HeapAlloc after GC, after registration, less before the scheduler was made
	HeapRunning    int64         `json:",omitempty"` // the same once started and settled
	StartCPU       time.Duration `json:",omitempty"` // CPU from Start to the end of Settle
	IdleCPU        time.Duration `json:",omitempty"` // CPU over IdleFor
	IdleFor        time.Duration `json:",omitempty"`

	// fires and once
	Window     time.Duration    `json:",omitempty"` // fires: the window whose fires count
	Expected   int64            `json:",omitempty"` // fires due in the window (once: jobs)
	Ran        int64            `json:",omitempty"` // of those, fires that ran
	AllRuns    int64            `json:",omitempty"` // every task start, in the window or not
	Missed     int64            `json:",omitempty"` // Expected - Ran
	LibMisses  int64            `json:",omitempty"` // fires the library reported missed, skipped or outdated
	MissKinds  map[string]int64 `json:",omitempty"` // LibMisses by kind
	Behind     int64            `json:",omitempty"` // k-th-fire rule only: fires that started an interval or more after their slot
	Duplicates int64            `json:",omitempty"` // fires that ran twice (libraries that report the scheduled time)
	Early      int64            `json:",omitempty"` // fires started more than 1 ms before their scheduled time
	P50        time.Duration    `json:",omitempty"` // lateness percentiles of the fires that ran
	P99        time.Duration    `json:",omitempty"`
	Max        time.Duration    `json:",omitempty"`
	CPU        time.Duration    `json:",omitempty"` // from Start until the last fire counted (or the drain ran out)
	LastStart  time.Duration    `json:",omitempty"` // once: from the due instant until the last task started
	StopErr    string           `json:",omitempty"`
}

// Run runs a scenario for lib in this process.
func Run(scenario string, lib Lib, cfg Config) Result {
	r := Result{Lib: lib.Name, Scenario: scenario, Jobs: cfg.Jobs, Status: StatusOK}
	var err error
	switch scenario {
	case ScenarioIdle:
		err = idle(lib, cfg, &r)
	case ScenarioFires:
		err = fires(lib, cfg, &r)
	case ScenarioOnce:
		err = once(lib, cfg, &r)
	default:
		err = fmt.Errorf("schedbench: no scenario %q", scenario)
	}
	if err != nil {
		r.Status, r.Err = StatusError, err.Error()
	}
	return r
}

// profile starts a CPU profile into path, when set, and returns the
// function that stops it.
func profile(path string) (stop func(), err error) {
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
	var once sync.Once
	return func() { once.Do(func() { pprof.StopCPUProfile(); f.Close() }) }, nil
}

// heapAlloc is the live heap after a full collection.
func heapAlloc() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// register adds jobs 0..n-1 with add until done, over budget, or (when
// first is set) too close to the first fire for Start to come before it;
// it reports whether all were added and the scenario goes on.
func register(cfg Config, r *Result, first time.Time, add func(i int) error) (bool, error) {
	t0 := time.Now()
	for i := range cfg.Jobs {
		if err := add(i); err != nil {
			return false, fmt.Errorf("adding job %d: %w", i, err)
		}
		if i%64 != 63 {
			continue
		}
		now := time.Now()
		if cfg.Budget > 0 && now.Sub(t0) > cfg.Budget {
			r.Registered, r.Register, r.Status = i+1, now.Sub(t0), StatusOverBudget
			return false, nil
		}
		if !first.IsZero() && first.Sub(now) < minStartGap {
			r.Registered, r.Register, r.Status = i+1, now.Sub(t0), StatusLeadTooShort
			return false, nil
		}
	}
	r.Registered, r.Register = cfg.Jobs, time.Since(t0)
	if !first.IsZero() && time.Until(first) < minStartGap {
		r.Status = StatusLeadTooShort
		return false, nil
	}
	return true, nil
}

func idle(lib Lib, cfg Config, r *Result) error {
	before := heapAlloc()
	s, err := lib.New(func(int, time.Time) {}, cfg.Options)
	if err != nil {
		return err
	}
	ok, err := register(cfg, r, time.Time{}, func(i int) error { return s.AddInterval(i, cfg.Every, time.Time{}) })
	if !ok {
		return err
	}
	r.HeapRegistered = heapAlloc() - before
	stopProfile, err := profile(cfg.CPUProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	c0 := cpuTime()
	if err := s.Start(); err != nil {
		return err
	}
	time.Sleep(cfg.Settle)
	r.StartCPU = cpuTime() - c0
	r.HeapRunning = heapAlloc() - before
	c1 := cpuTime()
	time.Sleep(cfg.For)
	r.IdleCPU, r.IdleFor = cpuTime()-c1, cfg.For
	stopProfile()
	runtime.KeepAlive(s)
	// No Stop: the process ends here, and some libraries take long to
	// stop a million jobs.
	return nil
}

// firstFire is the first whole second at least lead after now.
func firstFire(lead time.Duration) time.Time {
	t := time.Now().Add(lead)
	if f := t.Truncate(time.Second); f.Before(t) {
		return f.Add(time.Second)
	}
	return t
}

// minStartGap is the least time left between the end of registration and
// the first fire for a run to count: Start must come before the fire.
const minStartGap = 500 * time.Millisecond

func fires(lib Lib, cfg Config, r *Result) error {
	slots := int(cfg.For / cfg.Every)
	if slots < 1 {
		return fmt.Errorf("window %v is shorter than the interval %v", cfg.For, cfg.Every)
	}
	start := firstFire(cfg.Lead)
	rec := newRecorder(cfg.Jobs, slots, start, cfg.Every, lib.ReportsScheduled)
	s, err := lib.New(rec.task, cfg.Options)
	if err != nil {
		return err
	}
	ok, err := register(cfg, r, start, func(i int) error { return s.AddInterval(i, cfg.Every, start) })
	if !ok {
		return err
	}
	end := start.Add(time.Duration(slots) * cfg.Every)
	r.Window, r.Expected = end.Sub(start), int64(cfg.Jobs*slots)
	if err := measure(s, cfg, r, rec, end); err != nil {
		return err
	}
	rec.fill(r)
	return nil
}

// measure starts s, waits until the time until has passed and the
// expected fires ran (or the drain ran out), records CPU and the misses
// the library reported, keeps the fires that ran (recorder.freeze), and
// stops s.
func measure(s Scheduler, cfg Config, r *Result, rec *recorder, until time.Time) error {
	stopProfile, err := profile(cfg.CPUProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	c0 := cpuTime()
	if err := s.Start(); err != nil {
		return err
	}
	time.Sleep(time.Until(until))
	rec.waitFor(r.Expected, until.Add(cfg.Drain))
	r.CPU = cpuTime() - c0
	stopProfile()
	rec.freeze()
	if mc, ok := s.(MissCounter); ok {
		r.MissKinds = mc.Misses()
		for _, n := range r.MissKinds {
			r.LibMisses += n
		}
	}
	stop(s, r)
	return nil
}

func once(lib Lib, cfg Config, r *Result) error {
	at := firstFire(cfg.Lead)
	rec := newRecorder(cfg.Jobs, 1, at, time.Hour, true)
	s, err := lib.New(func(job int, _ time.Time) { rec.task(job, at) }, cfg.Options)
	if err != nil {
		return err
	}
	ok, err := register(cfg, r, at, func(i int) error { return s.AddOnce(i, at) })
	if !ok {
		return err
	}
	r.Expected = int64(cfg.Jobs)
	if err := measure(s, cfg, r, rec, at); err != nil {
		return err
	}
	rec.fill(r)
	if r.Ran > 0 { // every fire is due at at: the last started the latest
		r.LastStart = r.Max
	}
	return nil
}

// stop stops s, giving up after a minute.
func stop(s Scheduler, r *Result) {
	done := make(chan error, 1)
	go func() { done <- s.Stop() }()
	select {
	case err := <-done:
		if err != nil {
			r.StopErr = err.Error()
		}
	case <-time.After(time.Minute):
		r.StopErr = "did not stop within a minute"
	}
}

// recorder is the task of fires and once: it records each fire's lateness
// (start time less scheduled time) and counts fires per job and slot.
//
// A fire touches only its job's cells, whole cache lines of their own,
// and of those only its lateness cell (which tells a second run of the
// fire) when the library reports the scheduled time. Fires of other jobs,
// running at the same moment on other cores, share no line with it. How
// many fires ran is counted from the lateness cells when asked (ran), not
// on each fire: in a probe, a second locked instruction per fire, on a
// line not in cache, added about a millisecond to the p99 of a burst of
// ten thousand. The rare counts (twice, early, behind, outside the
// window) are spread over shards, a line each, by job. A counter that
// every fire adds to moves between the cores on every fire, a hundred
// nanoseconds or more each time on 2 cores, and a burst of ten thousand
// fires would measure that counter as much as the library.
type recorder struct {
	jobs, slots int
	start       time.Time
	every       time.Duration
	reported    bool

	// cells holds stride cells per job: its fires so far (cellFired: the
	// slot of a library that does not report the scheduled time), then
	// each slot's lateness in ns, noLate until the fire ran.
	cells  []atomic.Int64
	stride int
	shards [recorderShards]recorderShard
	ranBy  []int64 // the lateness of the fires that had run when measure ended (freeze)
}

const (
	cellFired = iota
	cellLate  // the first slot's
)

// noLate marks a lateness cell whose fire has not run.
const noLate = math.MinInt64

const recorderShards = 64

// recorderShard holds the counts of the jobs whose index is its own modulo
// recorderShards, padded to a cache line of its own.
type recorderShard struct {
	outside atomic.Int64 // runs of a fire outside the window, or of no job of the scenario
	dups    atomic.Int64
	early   atomic.Int64
	behind  atomic.Int64
	_       [32]byte
}

func newRecorder(jobs, slots int, start time.Time, every time.Duration, reported bool) *recorder {
	stride := (cellLate + slots + 7) / 8 * 8 // whole lines of 8 cells
	r := &recorder{jobs: jobs, slots: slots, start: start, every: every, reported: reported,
		cells: make([]atomic.Int64, jobs*stride), stride: stride} // page-aligned, past 32 KB
	for job := range jobs {
		lates := r.lates(job)
		for i := range lates {
			lates[i].Store(noLate)
		}
	}
	return r
}

// job returns a job's cells.
func (r *recorder) job(job int) []atomic.Int64 {
	return r.cells[job*r.stride : (job+1)*r.stride]
}

// lates returns a job's cells of lateness, one per slot.
func (r *recorder) lates(job int) []atomic.Int64 {
	return r.job(job)[cellLate : cellLate+r.slots]
}

func (r *recorder) task(job int, scheduled time.Time) {
	now := time.Now()
	sh := &r.shards[uint(job)%recorderShards]
	if job < 0 || job >= r.jobs {
		sh.outside.Add(1)
		return
	}
	var slot int
	if scheduled.IsZero() || !r.reported {
		// The k-th fire of a job is taken to be its k-th slot. Should the
		// library skip a slot, later fires are taken for earlier slots:
		// they look an interval late or more, and are counted behind.
		slot = int(r.job(job)[cellFired].Add(1) - 1)
		scheduled = r.start.Add(time.Duration(slot) * r.every)
		if slot < r.slots && now.Sub(scheduled) >= r.every {
			sh.behind.Add(1)
		}
	} else {
		d := scheduled.Sub(r.start)
		if d < 0 {
			sh.outside.Add(1)
			return
		}
		slot = int(d / r.every)
	}
	if slot >= r.slots {
		sh.outside.Add(1)
		return
	}
	late := now.Sub(scheduled)
	cells := r.job(job)
	if !cells[cellLate+slot].CompareAndSwap(noLate, int64(late)) {
		sh.dups.Add(1) // the fire ran before
		return
	}
	if late < -time.Millisecond {
		sh.early.Add(1)
	}
}

// sum adds up one count over the shards.
func (r *recorder) sum(count func(*recorderShard) *atomic.Int64) int64 {
	var n int64
	for i := range r.shards {
		n += count(&r.shards[i]).Load()
	}
	return n
}

// ran returns how many fires in the window have run: the lateness cells
// set.
func (r *recorder) ran() int64 {
	var n int64
	for job := range r.jobs {
		lates := r.lates(job)
		for i := range lates {
			if lates[i].Load() != noLate {
				n++
			}
		}
	}
	return n
}

// waitFor waits until want fires in the window have run, or deadline;
// want is every cell (the window's fires of every job). Its looks fall in
// the CPU measured, so it keeps, per job, the first slot it has not seen
// run: after the first look, each reads about one cell a job, where
// counting every cell (ran) would charge a library still draining its
// fires for the recorder's work. A slot not run stops its job's count,
// but then want cannot be reached in any case.
func (r *recorder) waitFor(want int64, deadline time.Time) {
	seen := make([]int, r.jobs)
	var n int64
	for {
		for job, i := range seen {
			lates := r.lates(job)
			for i < len(lates) && lates[i].Load() != noLate {
				i++
				n++
			}
			seen[job] = i
		}
		if n >= want || !time.Now().Before(deadline) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// freeze keeps the lateness of the fires in the window that have run,
// for fill: those that run later, past the drain, count as missed.
func (r *recorder) freeze() {
	r.ranBy = make([]int64, 0, r.ran())
	for job := range r.jobs {
		lates := r.lates(job)
		for i := range lates {
			if l := lates[i].Load(); l != noLate {
				r.ranBy = append(r.ranBy, l)
			}
		}
	}
}

// fill copies the counts and the lateness percentiles of the fires that
// had run by freeze into res; the scheduler must be stopped (its tasks
// finished).
func (r *recorder) fill(res *Result) {
	late := r.ranBy
	res.Ran = int64(len(late))
	res.Duplicates = r.sum(func(s *recorderShard) *atomic.Int64 { return &s.dups })
	res.AllRuns = r.ran() + res.Duplicates + r.sum(func(s *recorderShard) *atomic.Int64 { return &s.outside })
	res.Missed = res.Expected - res.Ran
	res.Early = r.sum(func(s *recorderShard) *atomic.Int64 { return &s.early })
	res.Behind = r.sum(func(s *recorderShard) *atomic.Int64 { return &s.behind })
	if len(late) == 0 {
		return
	}
	slices.Sort(late)
	res.P50 = time.Duration(late[len(late)/2])
	res.P99 = time.Duration(late[min(len(late)-1, len(late)*99/100)])
	res.Max = time.Duration(late[len(late)-1])
}
