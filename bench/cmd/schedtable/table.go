package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sundialhq/sundial/bench/schedbench"
)

type direction int

const (
	lowerBetter direction = iota
	higherBetter
	noRatio
)

// metric is one row of a table.
type metric struct {
	name string
	dir  direction
	// value returns the figure, or false when it does not apply to r.
	value  func(r schedbench.Result) (float64, bool)
	format func(v float64) string
	// floor: when sundial and the best peer are both below it, the ratio
	// is noise and is not shown.
	floor float64
	// allRan: only peers that ran every due fire may be the best peer (a
	// library that drops most fires is prompt with the few it runs).
	allRan bool
}

func table(w io.Writer, title string, rs []schedbench.Result, metrics []metric) {
	fmt.Fprintf(w, "#### %s\n\n", title)
	fmt.Fprint(w, "| |")
	for _, r := range rs {
		fmt.Fprintf(w, " %s |", r.Lib)
	}
	fmt.Fprintln(w, " best peer | ratio |")
	fmt.Fprint(w, "|---|")
	for range rs {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w, "---|---:|")
	for _, m := range metrics {
		fmt.Fprintf(w, "| %s |", m.name)
		vals := make([]float64, len(rs))
		oks := make([]bool, len(rs))
		for i, r := range rs {
			if r.Status != schedbench.StatusOK {
				fmt.Fprintf(w, " n/a (%s) |", r.Status)
				continue
			}
			v, ok := m.value(r)
			if !ok {
				fmt.Fprint(w, " — |")
				continue
			}
			vals[i], oks[i] = v, true
			fmt.Fprintf(w, " %s |", m.format(v))
		}
		best := -1
		for i := 1; i < len(rs); i++ {
			if !oks[i] || (m.allRan && rs[i].Missed != 0) {
				continue
			}
			if best < 0 || (m.dir == higherBetter && vals[i] > vals[best]) || (m.dir != higherBetter && vals[i] < vals[best]) {
				best = i
			}
		}
		if best < 0 || m.dir == noRatio {
			fmt.Fprintln(w, " — | — |")
			continue
		}
		fmt.Fprintf(w, " %s |", rs[best].Lib)
		s, p := vals[0], vals[best]
		switch {
		case !oks[0]:
			fmt.Fprintln(w, " — |")
		case s < m.floor && p < m.floor:
			fmt.Fprintln(w, " ≈ (both ≈ 0) |")
		case m.dir == lowerBetter && s > 0:
			fmt.Fprintf(w, " %s |\n", ratio(p/s))
		case m.dir == higherBetter && p > 0:
			fmt.Fprintf(w, " %s |\n", ratio(s/p))
		default:
			fmt.Fprintln(w, " — |")
		}
	}
	fmt.Fprintln(w)
	notes(w, rs)
}

func ratio(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// notes lists what the table cannot show: runs that did not finish, fires
// that ran twice or early, schedulers that did not stop.
func notes(w io.Writer, rs []schedbench.Result) {
	wrote := false
	note := func(format string, args ...any) {
		wrote = true
		fmt.Fprintf(w, "- "+format+"\n", args...)
	}
	for _, r := range rs {
		switch r.Status {
		case schedbench.StatusOverBudget:
			note("%s: over the registration budget: it added %s of %s jobs in %s (%s per job on average).",
				r.Lib, thousands(int64(r.Registered)), thousands(int64(r.Jobs)), dur(float64(r.Register)), dur(float64(r.Register)/float64(max(r.Registered, 1))))
		case schedbench.StatusError:
			note("%s: error: %s", r.Lib, r.Err)
		}
		if r.Duplicates > 0 {
			note("%s ran %s fires twice.", r.Lib, thousands(r.Duplicates))
		}
		if r.Early > 0 {
			note("%s started %s fires more than 1 ms before their scheduled time.", r.Lib, thousands(r.Early))
		}
		if len(r.MissKinds) > 0 && r.LibMisses > 0 {
			var kinds []string
			for _, k := range slices.Sorted(maps.Keys(r.MissKinds)) {
				if n := r.MissKinds[k]; n > 0 {
					kinds = append(kinds, fmt.Sprintf("%s %s", k, thousands(n)))
				}
			}
			note("%s reported %s fires it did not run (%s), in or after the window, until it stopped.", r.Lib, thousands(r.LibMisses), strings.Join(kinds, ", "))
		}
		if r.Behind > 0 {
			note("%s: %s fires started an interval or more after their slot by the k-th-fire rule. If %s skipped slots, its lateness is overstated and its missed fires understated (later fires fill the skipped slots).",
				r.Lib, thousands(r.Behind), r.Lib)
		}
		if r.StopErr != "" {
			note("%s: stop: %s", r.Lib, r.StopErr)
		}
	}
	if wrote {
		fmt.Fprintln(w)
	}
}

func idleTable(w io.Writer, cfg schedbench.Config, rs []schedbench.Result) {
	perJob := func(f func(r schedbench.Result) float64) func(r schedbench.Result) (float64, bool) {
		return func(r schedbench.Result) (float64, bool) { return f(r) / float64(r.Jobs), true }
	}
	table(w, fmt.Sprintf("Idle: %s interval jobs (every %s, none fires)", thousands(int64(cfg.Jobs)), human(cfg.Every)), rs, []metric{
		{name: "heap per job, started", value: perJob(func(r schedbench.Result) float64 { return float64(r.HeapRunning) }), format: bytesFmt},
		{name: "heap per job, registered", value: perJob(func(r schedbench.Result) float64 { return float64(r.HeapRegistered) }), format: bytesFmt},
		{name: "registration per job", value: perJob(func(r schedbench.Result) float64 { return float64(r.Register) }), format: dur},
		{name: fmt.Sprintf("CPU from Start to settled (%s)", human(cfg.Settle)), value: func(r schedbench.Result) (float64, bool) { return float64(r.StartCPU), true }, format: dur, floor: float64(10 * time.Millisecond)},
		{name: fmt.Sprintf("idle CPU over %s", human(cfg.For)), value: func(r schedbench.Result) (float64, bool) { return float64(r.IdleCPU), true }, format: dur, floor: float64(10 * time.Millisecond)},
	})
}

func firesTable(w io.Writer, cfg schedbench.Config, rs []schedbench.Result) {
	table(w, fmt.Sprintf("Fires: %s jobs every %s for %s, all starting at the same whole second", thousands(int64(cfg.Jobs)), human(cfg.Every), human(cfg.For)), rs, []metric{
		{name: "fires run / due in the window", dir: noRatio, value: func(r schedbench.Result) (float64, bool) { return float64(r.Ran), true },
			format: func(v float64) string {
				return thousands(int64(v)) + " / " + thousands(int64(cfg.Jobs)*int64(cfg.For/cfg.Every))
			}},
		{name: "fires/s achieved", dir: higherBetter, value: func(r schedbench.Result) (float64, bool) { return float64(r.Ran) / r.Window.Seconds(), true }, format: count},
		{name: "missed fires (due − run)", dir: noRatio, value: func(r schedbench.Result) (float64, bool) { return float64(r.Missed), true }, format: count},
		{name: "misses the library reported", dir: noRatio, value: libMisses, format: count},
		{name: "lateness p50", allRan: true, value: func(r schedbench.Result) (float64, bool) { return float64(r.P50), r.Ran > 0 }, format: dur},
		{name: "lateness p99", allRan: true, value: func(r schedbench.Result) (float64, bool) { return float64(r.P99), r.Ran > 0 }, format: dur},
		{name: "lateness max", allRan: true, value: func(r schedbench.Result) (float64, bool) { return float64(r.Max), r.Ran > 0 }, format: dur},
		{name: "CPU per 1k fires", value: func(r schedbench.Result) (float64, bool) {
			return float64(r.CPU) / float64(r.AllRuns) * 1000, r.AllRuns > 0
		}, format: dur},
		{name: "registration per job", value: func(r schedbench.Result) (float64, bool) { return float64(r.Register) / float64(r.Jobs), true }, format: dur},
	})
}

func onceTable(w io.Writer, cfg schedbench.Config, rs []schedbench.Result) {
	table(w, fmt.Sprintf("One-offs: %s jobs due at the same instant", thousands(int64(cfg.Jobs))), rs, []metric{
		{name: "jobs run", dir: noRatio, value: func(r schedbench.Result) (float64, bool) { return float64(r.Ran), true },
			format: func(v float64) string { return thousands(int64(v)) + " / " + thousands(int64(cfg.Jobs)) }},
		{name: "missed (never started)", dir: noRatio, value: func(r schedbench.Result) (float64, bool) { return float64(r.Missed), true }, format: count},
		{name: "misses the library reported", dir: noRatio, value: libMisses, format: count},
		{name: "due instant → last start", allRan: true, value: func(r schedbench.Result) (float64, bool) { return float64(r.LastStart), r.Ran > 0 }, format: dur},
		{name: "lateness p50", allRan: true, value: func(r schedbench.Result) (float64, bool) { return float64(r.P50), r.Ran > 0 }, format: dur},
		{name: "lateness p99", allRan: true, value: func(r schedbench.Result) (float64, bool) { return float64(r.P99), r.Ran > 0 }, format: dur},
		{name: "CPU from Start until all ran", value: func(r schedbench.Result) (float64, bool) { return float64(r.CPU), true }, format: dur},
		{name: "registration per job", value: func(r schedbench.Result) (float64, bool) { return float64(r.Register) / float64(r.Jobs), true }, format: dur},
	})
}

// libMisses applies to the libraries that report misses (sundial's events,
// go-quartz's misfire channel).
func libMisses(r schedbench.Result) (float64, bool) {
	switch r.Lib {
	case "sundial", "quartz":
		return float64(r.LibMisses), true
	}
	return 0, false
}

func dur(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d < 0:
		return "-" + dur(-ns)
	case d == 0:
		return "0"
	case d < time.Microsecond:
		return fmt.Sprintf("%.0f ns", ns)
	case d < 10*time.Microsecond:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	default:
		return fmt.Sprintf("%.2f s", ns/1e9)
	}
}

// human writes whole hours, minutes or seconds as "1 h", "10 s".
func human(d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return d.String()
}

func bytesFmt(v float64) string { return thousands(int64(v+0.5)) + " B" }

func count(v float64) string { return thousands(int64(v + 0.5)) }

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
