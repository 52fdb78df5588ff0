package alert

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind is what an alert is about.
type Kind string

// The kinds of alerts.
const (
	KindFailed      Kind = "failed"      // a run failed: its task returned an error or panicked
	KindSlow        Kind = "slow"        // a run has run longer than its threshold and still runs
	KindMissed      Kind = "missed"      // a fire did not start in time (or was recorded missed)
	KindInterrupted Kind = "interrupted" // a run was cut short: node lost, shutdown, cancelled
	KindNodeLost    Kind = "node_lost"   // a node stopped heartbeating
)

var allKinds = []Kind{KindFailed, KindSlow, KindMissed, KindInterrupted, KindNodeLost}

func (k Kind) valid() bool { return slices.Contains(allKinds, k) }

var kindNouns = map[Kind][2]string{
	KindFailed:      {"failure", "failures"},
	KindSlow:        {"slow run", "slow runs"},
	KindMissed:      {"missed fire", "missed fires"},
	KindInterrupted: {"interruption", "interruptions"},
	KindNodeLost:    {"lost node", "lost nodes"},
}

// noun names n alerts of the kind, as in "and 3 more failures".
func (k Kind) noun(n int) string {
	if n == 1 {
		return kindNouns[k][0]
	}
	return kindNouns[k][1]
}

// Message is one alert as it goes to a destination. The fields that do not
// apply to its Kind are zero.
type Message struct {
	Kind  Kind
	Title string // one line, such as "Job reports.hourly failed"
	// Text is the whole message for people: the title, the details, the
	// error, the stack trace and the summary of suppressed alerts, cut to
	// the destination's Limit (stack trace first, then the error) with a
	// "…[truncated N bytes]" marker where something was cut.
	Text string

	JobID     string
	RunID     string
	Node      string // the node it happened on, or the node lost
	Attempt   int
	Scheduled time.Time     // the fire's scheduled time
	Time      time.Time     // when it happened, on the alerter's clock
	Duration  time.Duration // how long the run ran (so far, for slow runs)
	Detail    string        // a sentence of context, such as the threshold a slow run passed
	Err       string        // the error, cut like Text
	Stack     string        // the stack trace from the panic on, cut like Text

	// Suppressed counts, by kind, the alerts about the same job that the
	// rate limit held back since Since; this message is the latest of
	// them.
	Suppressed map[Kind]int
	Since      time.Time
}

// minLimit is the least Limit a Destination may have.
const minLimit = 256

// formatTime writes a time for people, in UTC.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// head renders the title and details of m.
func (m *Message) head() string {
	var b strings.Builder
	b.WriteString(m.Title + "\n")
	var ids []string
	if m.JobID != "" {
		ids = append(ids, "job "+m.JobID)
	}
	if m.RunID != "" {
		ids = append(ids, "run "+m.RunID)
	}
	if m.Attempt > 1 {
		ids = append(ids, fmt.Sprintf("attempt %d", m.Attempt))
	}
	if m.Node != "" {
		ids = append(ids, "node "+m.Node)
	}
	if len(ids) > 0 {
		b.WriteString(strings.Join(ids, ", ") + "\n")
	}
	if !m.Scheduled.IsZero() {
		b.WriteString("scheduled " + formatTime(m.Scheduled) + "\n")
	}
	if m.Detail != "" {
		b.WriteString(m.Detail + "\n")
	}
	return b.String()
}

// tail renders the summary of suppressed alerts.
func (m *Message) tail() string {
	total := 0
	for _, n := range m.Suppressed {
		total += n
	}
	if total == 0 {
		return ""
	}
	since := m.Since.UTC().Format(time.TimeOnly)
	if len(m.Suppressed) == 1 {
		for k, n := range m.Suppressed {
			return fmt.Sprintf("and %d more %s since %s UTC\n", n, k.noun(n), since)
		}
	}
	var parts []string
	for _, k := range allKinds {
		if n := m.Suppressed[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, k.noun(n)))
		}
	}
	return fmt.Sprintf("and %d more alerts since %s UTC (%s)\n", total, since, strings.Join(parts, ", "))
}

const (
	errPrefix   = "error: "
	stackOpen   = "```\n"
	stackClose  = "\n```\n"
	errOverhead = len(errPrefix) + 1
)

// fit returns m with Text rendered in at most limit bytes: when the whole
// does not fit, the stack trace is cut first and then the error, each
// keeping its beginning and ending in a truncation marker.
func fit(m Message, limit int) Message {
	head, tail := m.head(), m.tail()
	budget := limit - len(head) - len(tail)
	if m.Err != "" {
		budget -= errOverhead
	}
	if m.Stack != "" {
		budget -= len(stackOpen) + len(stackClose)
	}
	if n := len(m.Err) + len(m.Stack); n > budget {
		keepErr := min(len(m.Err), max(budget/2, budget-len(m.Stack)))
		m.Err = truncate(m.Err, max(keepErr, 0))
		m.Stack = truncate(m.Stack, max(budget-len(m.Err), 0))
	}
	var b strings.Builder
	b.WriteString(head)
	if m.Err != "" {
		b.WriteString(errPrefix + m.Err + "\n")
	}
	if m.Stack != "" {
		b.WriteString(stackOpen + m.Stack + stackClose)
	}
	b.WriteString(tail)
	m.Text = truncate(b.String(), limit) // only when head and tail alone exceed the limit
	return m
}

// truncate cuts s to at most n bytes, at a UTF-8 boundary, ending it with
// a marker that says how many bytes were cut. Too small an n for the
// marker leaves "".
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	keep := n
	for range 4 { // the marker's length depends on the count it shows
		for keep > 0 && keep < len(s) && !isRuneStart(s[keep]) {
			keep--
		}
		marker := fmt.Sprintf("…[truncated %d bytes]", len(s)-keep)
		if keep+len(marker) <= n {
			return s[:keep] + marker
		}
		keep = n - len(marker)
		if keep < 0 {
			return ""
		}
	}
	return ""
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// trimStack drops the frames above the panic (the runtime's and
// sundial's own recovery), keeping the goroutine header, so the trace
// starts where the task panicked.
func trimStack(stack string) string {
	i := strings.Index(stack, "\npanic(")
	if i < 0 {
		return stack
	}
	header, _, _ := strings.Cut(stack, "\n")
	if !strings.HasPrefix(header, "goroutine ") {
		return stack[i+1:]
	}
	return header + "\n" + stack[i+1:]
}
