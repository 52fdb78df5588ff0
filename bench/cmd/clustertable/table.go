package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/sundialhq/sundial/bench/clusterbench"
)

type direction int

const (
	lowerBetter direction = iota
	higherBetter
	noRatio
)

// row is one line of a table.
type row struct {
	name string
	dir  direction
	// value returns the figure, or false when it does not apply to r.
	value  func(r *clusterbench.Result) (float64, bool)
	format func(v float64, r *clusterbench.Result) string
	// allRan: only peers that ran every fire of the steady window may be
	// the best peer (a library that drops fires is prompt with the rest).
	allRan bool
	// isDur: the figure is a duration (for the ratio column's text).
	isDur bool
}

func printTable(w io.Writer, cfg clusterbench.Config, rs []clusterbench.Result) {
	title := fmt.Sprintf("%s jobs every %s, %d replicas: steady window %s", thousands(int64(cfg.Jobs)), human(cfg.Every), cfg.Nodes, human(cfg.For))
	if cfg.Kill {
		title += fmt.Sprintf(", then a replica SIGKILLed %s into a %s failover window", human(cfg.Every), human(cfg.AfterKill))
	}
	fmt.Fprintf(w, "#### %s\n\n|", title)
	for _, r := range rs {
		fmt.Fprintf(w, " | %s", r.Lib)
	}
	fmt.Fprint(w, " | best peer")
	var sundials []int
	for i, r := range rs {
		if isSundial(r.Lib) {
			sundials = append(sundials, i)
			fmt.Fprintf(w, " | ratio %s", strings.TrimPrefix(strings.TrimPrefix(r.Lib, "sundial"), "-"))
		}
	}
	fmt.Fprintln(w, " |")
	fmt.Fprint(w, "|---|"+strings.Repeat("---:|", len(rs))+"---|"+strings.Repeat("---:|", len(sundials))+"\n")
	rows := steadyRows(cfg)
	if cfg.Kill {
		rows = append(rows, failoverRows(cfg)...)
	}
	for _, m := range rows {
		printRow(w, m, rs, sundials)
	}
	fmt.Fprintln(w)
	notes(w, rs)
}

func printRow(w io.Writer, m row, rs []clusterbench.Result, sundials []int) {
	fmt.Fprintf(w, "| %s |", m.name)
	vals := make([]float64, len(rs))
	oks := make([]bool, len(rs))
	for i := range rs {
		r := &rs[i]
		if !r.OK() {
			fmt.Fprint(w, " n/a (error) |")
			continue
		}
		v, ok := m.value(r)
		if !ok {
			fmt.Fprint(w, " — |")
			continue
		}
		vals[i], oks[i] = v, true
		fmt.Fprintf(w, " %s |", m.format(v, r))
	}
	best := -1
	for i := range rs {
		if isSundial(rs[i].Lib) || !oks[i] || (m.allRan && rs[i].Steady.Missed != 0) {
			continue
		}
		if best < 0 || (m.dir == higherBetter && vals[i] > vals[best]) || (m.dir != higherBetter && vals[i] < vals[best]) {
			best = i
		}
	}
	if best < 0 || m.dir == noRatio {
		fmt.Fprintln(w, " — |"+strings.Repeat(" — |", len(sundials)))
		return
	}
	fmt.Fprintf(w, " %s |", rs[best].Lib)
	for _, s := range sundials {
		fmt.Fprintf(w, " %s |", ratioText(m, vals[s], vals[best], oks[s]))
	}
	fmt.Fprintln(w)
}

// ratioText is best peer ÷ sundial where lower is better, sundial ÷ best
// peer where higher is: above 1× sundial is ahead.
func ratioText(m row, s, p float64, ok bool) string {
	dir := m.dir
	switch {
	case !ok:
		return "—"
	case s == 0 && p == 0:
		return "= (both 0)"
	case dir == lowerBetter && s == 0:
		return "∞ (0 vs " + short(m, p) + ")"
	case dir == lowerBetter && p == 0:
		return "behind (" + short(m, s) + " vs 0)"
	case dir == lowerBetter:
		return ratio(p / s)
	case p > 0:
		return ratio(s / p)
	}
	return "—"
}

// short writes a figure for the ratio column.
func short(m row, v float64) string {
	if m.isDur {
		return dur(v)
	}
	return count(v)
}

func ratio(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

func fig(f func(r *clusterbench.Result) float64) func(r *clusterbench.Result) (float64, bool) {
	return func(r *clusterbench.Result) (float64, bool) { return f(r), true }
}

func durFmt(v float64, _ *clusterbench.Result) string { return dur(v) }

func countFmt(v float64, _ *clusterbench.Result) string { return count(v) }

func steadyRows(cfg clusterbench.Config) []row {
	return []row{
		{name: "fires run / due", dir: noRatio, value: fig(func(r *clusterbench.Result) float64 { return float64(r.Steady.Ran) }),
			format: func(v float64, r *clusterbench.Result) string { return count(v) + " / " + thousands(r.Steady.Expected) }},
		{name: "fires/s achieved", dir: higherBetter, value: fig(func(r *clusterbench.Result) float64 { return float64(r.Steady.Ran) / r.Steady.Span.Seconds() }), format: countFmt},
		{name: "fires run twice or more", value: fig(func(r *clusterbench.Result) float64 { return float64(r.Steady.Duplicates) }), format: countFmt},
		{name: "fires never run", value: fig(func(r *clusterbench.Result) float64 { return float64(r.Steady.Missed) }), format: countFmt},
		{name: "lateness p50", allRan: true, value: lateness(func(w clusterbench.Window) time.Duration { return w.P50 }), format: durFmt, isDur: true},
		{name: "lateness p99", allRan: true, value: lateness(func(w clusterbench.Window) time.Duration { return w.P99 }), format: durFmt, isDur: true},
		{name: "lateness max", allRan: true, value: lateness(func(w clusterbench.Window) time.Duration { return w.Max }), format: durFmt, isDur: true},
		{name: "fires run per node", dir: noRatio, value: fig(func(r *clusterbench.Result) float64 { return 0 }), format: perNode},
		{name: "declaring the jobs (slowest replica)", dir: noRatio, value: fig(func(r *clusterbench.Result) float64 { return float64(r.Declare) }), format: durFmt, isDur: true},
	}
}

func lateness(f func(clusterbench.Window) time.Duration) func(r *clusterbench.Result) (float64, bool) {
	return func(r *clusterbench.Result) (float64, bool) { return float64(f(r.Steady)), r.Steady.Ran > 0 }
}

func failoverRows(cfg clusterbench.Config) []row {
	after := func(f func(w clusterbench.Window) float64) func(r *clusterbench.Result) (float64, bool) {
		return fig(func(r *clusterbench.Result) float64 { return f(r.After) })
	}
	return []row{
		{name: "**failover**: node killed", dir: noRatio, value: fig(func(r *clusterbench.Result) float64 { return 0 }), format: victim},
		{name: "kill → each job's next start elsewhere, p50", value: fig(func(r *clusterbench.Result) float64 { return float64(r.Failover.GapP50) }), format: durFmt, isDur: true},
		{name: "kill → each job's next start elsewhere, max", value: fig(func(r *clusterbench.Result) float64 { return float64(r.Failover.GapMax) }), format: durFmt, isDur: true},
		{name: "fires lost before their job resumed", value: fig(func(r *clusterbench.Result) float64 { return float64(r.Failover.Lost) }), format: countFmt},
		{name: "jobs that lost a fire", value: fig(func(r *clusterbench.Result) float64 { return float64(r.Failover.Stalled) }), format: countFmt},
		{name: "failover window: fires never run / due", value: after(func(w clusterbench.Window) float64 { return float64(w.Missed) }),
			format: func(v float64, r *clusterbench.Result) string { return count(v) + " / " + thousands(r.After.Expected) }},
		{name: "failover window: fires run twice or more", value: after(func(w clusterbench.Window) float64 { return float64(w.Duplicates) }), format: countFmt},
		{name: "failover window: fires started an interval or more late", value: after(func(w clusterbench.Window) float64 { return float64(w.Behind) }), format: countFmt},
		{name: "failover window: lateness p99", value: after(func(w clusterbench.Window) float64 { return float64(w.P99) }), format: durFmt, isDur: true},
	}
}

func victim(_ float64, r *clusterbench.Result) string {
	if r.Failover.Leader {
		return r.Failover.Victim + " (leader)"
	}
	return r.Failover.Victim
}

func perNode(_ float64, r *clusterbench.Result) string {
	var total int64
	for _, n := range r.PerNode {
		total += n
	}
	parts := make([]string, len(r.PerNode))
	for i, n := range r.PerNode {
		parts[i] = strconv.Itoa(int((float64(n)*100 + float64(total)/2) / float64(max(total, 1))))
	}
	return strings.Join(parts, "/") + " %"
}

// notes lists what the table cannot show.
func notes(w io.Writer, rs []clusterbench.Result) {
	wrote := false
	note := func(format string, args ...any) {
		wrote = true
		fmt.Fprintf(w, "- "+format+"\n", args...)
	}
	for _, r := range rs {
		if !r.OK() {
			note("%s: error: %s", r.Lib, r.Err)
			continue
		}
		for _, e := range r.ReplicaErrs {
			note("%s: replica failed: %s", r.Lib, oneLine(e))
		}
		if n := r.Steady.Extra + r.After.Extra; n > 0 {
			note("%s ran %s fires more than once (%s extra runs).", r.Lib, thousands(r.Steady.Duplicates+r.After.Duplicates), thousands(n))
		}
		if r.After.Retried > 0 {
			note("%s: %s of the failover window's repeated fires were its own retries of a run it counted as interrupted by the kill (the task had begun on the killed node).", r.Lib, thousands(r.After.Retried))
		}
		if r.Failover.Unresumed > 0 {
			note("%s: %s jobs never ran again on another node before the end of the window.", r.Lib, thousands(int64(r.Failover.Unresumed)))
		}
		if n := r.Steady.Behind; n > 0 {
			note("%s: %s fires of the steady window started an interval or more after their slot.", r.Lib, thousands(n))
		}
		if n := r.Steady.Early + r.After.Early; n > 0 {
			note("%s started %s fires more than 1 ms before their slot.", r.Lib, thousands(n))
		}
		if r.OffSlot > 0 {
			note("%s: %s runs carried a scheduled time more than 1 ms from any slot of their job.", r.Lib, thousands(r.OffSlot))
		}
	}
	if wrote {
		fmt.Fprintln(w)
	}
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}

func dur(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d < 0:
		return "-" + dur(-ns)
	case d == 0:
		return "0"
	case d < time.Millisecond:
		return fmt.Sprintf("%.0f µs", ns/1e3)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", ns/1e6)
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", ns/1e6)
	default:
		return fmt.Sprintf("%.2f s", ns/1e9)
	}
}

// human writes whole minutes or seconds as "1 min", "10 s".
func human(d time.Duration) string {
	switch {
	case d >= time.Minute && d%time.Minute == 0:
		return fmt.Sprintf("%d min", d/time.Minute)
	case d >= time.Second && d%time.Second == 0:
		return fmt.Sprintf("%d s", d/time.Second)
	}
	return d.String()
}

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
