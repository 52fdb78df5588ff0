package cron

import (
	"fmt"
	"time"
)

// Options tune how a schedule is evaluated. The zero value reads the
// expression in UTC with the default rules.
type Options struct {
	Location *time.Location // zone the expression is read in; nil means UTC
	Gap      GapPolicy      // fixed-time fires that a spring-forward gap skips
	Overlap  OverlapPolicy  // fixed-time fires in a fall-back overlap
	DayRule  DayRule        // how day-of-month and day-of-week combine when both are restricted
}

// GapPolicy says what a fixed-time schedule does with a wall-clock time that
// a spring-forward change skips.
type GapPolicy uint8

const (
	// GapShift fires once, at the first instant after the gap (Vixie cron).
	GapShift GapPolicy = iota
	// GapSkip does not fire.
	GapSkip
)

// OverlapPolicy says when a fixed-time schedule fires at a wall-clock time
// that a fall-back change makes happen twice.
type OverlapPolicy uint8

const (
	// OverlapFirst fires at the first occurrence only (Vixie cron).
	OverlapFirst OverlapPolicy = iota
	// OverlapLast fires at the second occurrence only.
	OverlapLast
	// OverlapBoth fires at both.
	OverlapBoth
)

// DayRule says how day-of-month and day-of-week combine when both are
// restricted (neither starts with "*" nor is "?").
type DayRule uint8

const (
	// DayOr fires on days matching either field (Vixie cron, POSIX).
	DayOr DayRule = iota
	// DayAnd fires on days matching both (APScheduler, Temporal).
	DayAnd
)

var (
	gapNames     = []string{"shift", "skip"}
	overlapNames = []string{"first", "last", "both"}
	dayRuleNames = []string{"or", "and"}
)

func name(names []string, i uint8) string {
	if int(i) < len(names) {
		return names[i]
	}
	return fmt.Sprintf("unknown(%d)", i)
}

func lookup(kind string, names []string, s string) (uint8, error) {
	for i, n := range names {
		if n == s {
			return uint8(i), nil
		}
	}
	return 0, fmt.Errorf("cron: unknown %s policy %q (want one of %v)", kind, s, names)
}

// String returns "shift" or "skip".
func (p GapPolicy) String() string { return name(gapNames, uint8(p)) }

// String returns "first", "last" or "both".
func (p OverlapPolicy) String() string { return name(overlapNames, uint8(p)) }

// String returns "or" or "and".
func (r DayRule) String() string { return name(dayRuleNames, uint8(r)) }

// ParseGapPolicy reads "shift" or "skip".
func ParseGapPolicy(s string) (GapPolicy, error) {
	v, err := lookup("gap", gapNames, s)
	return GapPolicy(v), err
}

// ParseOverlapPolicy reads "first", "last" or "both".
func ParseOverlapPolicy(s string) (OverlapPolicy, error) {
	v, err := lookup("overlap", overlapNames, s)
	return OverlapPolicy(v), err
}

// ParseDayRule reads "or" or "and".
func ParseDayRule(s string) (DayRule, error) {
	v, err := lookup("day", dayRuleNames, s)
	return DayRule(v), err
}
