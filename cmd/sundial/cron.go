package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sundialhq/sundial/cron"
)

// timeLayout is RFC 3339 with a numeric offset, even for UTC, and
// fractional seconds only when there are any.
const timeLayout = "2006-01-02T15:04:05.999999999-07:00"

// maxFires bounds -n.
const maxFires = 100000

type cronArgs struct {
	sched *cron.Schedule
	loc   *time.Location
	from  time.Time
	n     int
}

func runCron(_ context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("cron: missing subcommand (next, prev or explain)")
	}
	switch args[0] {
	case "next", "prev":
		a, err := parseCronArgs(args[0], args[1:], true)
		if err != nil {
			return err
		}
		return printFires(stdout, a, args[0] == "next")
	case "explain":
		a, err := parseCronArgs("explain", args[1:], false)
		if err != nil {
			return err
		}
		return explain(stdout, a)
	}
	return usagef("cron: unknown subcommand %q (want next, prev or explain)", args[0])
}

func parseCronArgs(name string, args []string, withN bool) (*cronArgs, error) {
	fs := flag.NewFlagSet("cron "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "start time, RFC 3339 (default: now)")
	tz := fs.String("tz", "UTC", "IANA time zone the expression is read in")
	gap := fs.String("gap", "shift", "spring-forward rule for fixed times: shift or skip")
	overlap := fs.String("overlap", "first", "fall-back rule for fixed times: first, last or both")
	dayRule := fs.String("day-rule", "or", "day-of-month and day-of-week: or, and")
	n := 5
	if withN {
		fs.IntVar(&n, "n", 1, "how many fire times to print")
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, usagef("cron %s: %v", name, err)
	}
	if len(pos) == 0 {
		return nil, usagef("cron %s: missing cron expression", name)
	}
	if n < 1 || n > maxFires {
		return nil, usagef("cron %s: -n: %d is out of range 1-%d", name, n, maxFires)
	}
	loc, err := time.LoadLocation(*tz)
	if err != nil || *tz == "" {
		return nil, usagef("cron %s: --tz: unknown time zone %q", name, *tz)
	}
	opts := &cron.Options{Location: loc}
	if err := parsePolicies(opts, *gap, *overlap, *dayRule); err != nil {
		return nil, usagef("cron %s: %v", name, err)
	}
	sched, err := cron.Parse(strings.Join(pos, " "), opts)
	if err != nil {
		return nil, usageError{err}
	}
	start, err := parseFrom(*from, loc)
	if err != nil {
		return nil, usagef("cron %s: %v", name, err)
	}
	return &cronArgs{sched: sched, loc: loc, from: start, n: n}, nil
}

// parseInterleaved parses flags that may come before or after the
// positional arguments, and returns the positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func parsePolicies(o *cron.Options, gap, overlap, dayRule string) error {
	var err error
	if o.Gap, err = cron.ParseGapPolicy(gap); err != nil {
		return fmt.Errorf("--gap: %w", err)
	}
	if o.Overlap, err = cron.ParseOverlapPolicy(overlap); err != nil {
		return fmt.Errorf("--overlap: %w", err)
	}
	if o.DayRule, err = cron.ParseDayRule(dayRule); err != nil {
		return fmt.Errorf("--day-rule: %w", err)
	}
	return nil
}

// parseFrom reads --from: RFC 3339 with an offset, or a wall-clock time
// without one, read in loc. Empty means now.
func parseFrom(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		return time.Now().In(loc), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05", s, loc); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--from: %q is not an RFC 3339 time (want e.g. 2024-03-10T01:00:00-05:00)", s)
}

func printFires(w io.Writer, a *cronArgs, forward bool) error {
	t := a.from
	var b strings.Builder
	for range a.n {
		if forward {
			t = a.sched.Next(t)
		} else {
			t = a.sched.Prev(t)
		}
		if t.IsZero() {
			break
		}
		b.WriteString(t.In(a.loc).Format(timeLayout))
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func explain(w io.Writer, a *cronArgs) error {
	var b strings.Builder
	b.WriteString(a.sched.Explain())
	fmt.Fprintf(&b, "\nnext fires (%s):\n", a.loc)
	t := a.from
	for range a.n {
		if t = a.sched.Next(t); t.IsZero() {
			b.WriteString("  (no more fires)\n")
			break
		}
		b.WriteString("  " + t.In(a.loc).Format(timeLayout))
		if note := a.sched.DSTNote(t); note != "" {
			b.WriteString("  note: " + note)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
