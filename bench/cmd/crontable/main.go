// Command crontable measures sundial's cron engine against robfig/cron v3,
// adhocore/gronx and go-quartz in one run, and prints Markdown tables: Next
// per expression and zone, Parse per expression, each with the fastest peer
// and the ratio fastest peer ÷ sundial.
//
//	cd bench && go run ./cmd/crontable -count 5 > cron-results.md
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sundialhq/sundial/bench/cronbench"
)

type result struct {
	ns     float64
	allocs int64
	ok     bool
}

func main() {
	testing.Init()
	count := flag.Int("count", 3, "runs per benchmark; the median is reported")
	benchtime := flag.Duration("benchtime", 300*time.Millisecond, "time per run")
	flag.Parse()
	if err := flag.Set("test.benchtime", benchtime.String()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	w := os.Stdout
	fmt.Fprintf(w, "Measured %s on %s, %d CPUs (%s), Go %s; median of %d runs of %s each.\n\n",
		time.Now().UTC().Format("2006-01-02"), cpuModel(), runtime.NumCPU(), runtime.GOARCH,
		strings.TrimPrefix(runtime.Version(), "go"), *count, *benchtime)
	nextTables(w, *count)
	parseTable(w, *count)
	fmt.Fprintln(w, "\n### Where the libraries disagree with sundial (first 20 fires)")
	fmt.Fprintln(w)
	for _, d := range cronbench.Disagreements(20) {
		fmt.Fprintln(w, "- "+d)
	}
}

func measure(f func(b *testing.B), count int) result {
	if f == nil {
		return result{}
	}
	var ns []float64
	var allocs int64
	for range count {
		r := testing.Benchmark(f)
		ns = append(ns, float64(r.NsPerOp()))
		if r.N > 0 {
			ns[len(ns)-1] = float64(r.T.Nanoseconds()) / float64(r.N)
		}
		allocs = r.AllocsPerOp()
	}
	sort.Float64s(ns)
	return result{ns: ns[len(ns)/2], allocs: allocs, ok: true}
}

func header(w io.Writer, first string) {
	fmt.Fprintf(w, "| %s |", first)
	for _, l := range cronbench.Libs {
		fmt.Fprintf(w, " %s ns/op (allocs) |", l.Name)
	}
	fmt.Fprintln(w, " fastest peer | ratio |")
	fmt.Fprint(w, "|---|")
	for range cronbench.Libs {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprintln(w, "---|---:|")
}

// row prints one line and returns the ratio fastest peer ÷ sundial.
func row(w io.Writer, label string, rs []result) (float64, bool) {
	fmt.Fprintf(w, "| `%s` |", label)
	best, bestName := 0.0, ""
	for i, r := range rs {
		if !r.ok {
			fmt.Fprint(w, " — |")
			continue
		}
		fmt.Fprintf(w, " %.0f (%d) |", r.ns, r.allocs)
		if i > 0 && (bestName == "" || r.ns < best) {
			best, bestName = r.ns, cronbench.Libs[i].Name
		}
	}
	if bestName == "" || !rs[0].ok {
		fmt.Fprintln(w, " — | — |")
		return 0, false
	}
	ratio := best / rs[0].ns
	fmt.Fprintf(w, " %s | %.1f× |\n", bestName, ratio)
	return ratio, true
}

func nextTables(w io.Writer, count int) {
	for _, zone := range cronbench.Zones {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintf(w, "### Next, %s\n\n", zone)
		header(w, "expression")
		var ratios []float64
		for _, expr := range cronbench.Exprs {
			rs := make([]result, len(cronbench.Libs))
			for i, lib := range cronbench.Libs {
				rs[i] = measure(cronbench.NextBench(lib, expr, loc), count)
			}
			if r, ok := row(w, expr, rs); ok {
				ratios = append(ratios, r)
			}
		}
		fmt.Fprintf(w, "\nMedian ratio (fastest peer ÷ sundial) in %s: **%.1f×**; smallest: %.1f×.\n\n",
			zone, median(ratios), slices.Min(ratios))
	}
}

func parseTable(w io.Writer, count int) {
	fmt.Fprintln(w, "### Parse")
	fmt.Fprintln(w)
	header(w, "expression")
	var ratios []float64
	for _, expr := range cronbench.Exprs {
		rs := make([]result, len(cronbench.Libs))
		for i, lib := range cronbench.Libs {
			rs[i] = measure(cronbench.ParseBench(lib, expr), count)
		}
		if r, ok := row(w, expr, rs); ok {
			ratios = append(ratios, r)
		}
	}
	fmt.Fprintf(w, "\nMedian Parse ratio: **%.1f×**; smallest: %.1f×. gronx has no parsed form (it parses on every call), so it has no Parse column.\n",
		median(ratios), slices.Min(ratios))
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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
