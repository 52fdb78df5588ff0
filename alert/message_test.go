package alert

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sundialhq/sundial"
)

// panicStack is a stack trace as the worker records one.
const panicStack = `goroutine 42 [running]:
runtime/debug.Stack()
	/usr/local/go/src/runtime/debug/stack.go:26 +0x5e
github.com/sundialhq/sundial.(*worker).call.func1()
	/src/sundial/worker.go:251 +0x8b
panic({0x6b8f20?, 0x8a1d30?})
	/usr/local/go/src/runtime/panic.go:785 +0x132
example.com/billing.charge(...)
	/src/billing/charge.go:17
example.com/billing.Task({0x8a5e68, 0xc0000a8000}, 0xc0000b6000)
	/src/billing/task.go:9 +0x25
`

func TestFailureMessage(t *testing.T) {
	f := setup(t, Config{}, nil)
	e := f.event(sundial.EventJobError, "billing", "RUN1", start.Add(-time.Second))
	e.Err, e.Stack, e.Duration, e.Attempt = `sundial: task "billing" panicked: nil map`, panicStack, 1500*time.Millisecond, 2
	f.a.Listen(e)
	got := f.text(t)
	wantContains(t, got,
		"Job billing failed\n",
		"job billing, run RUN1, attempt 2, node n1\n",
		"scheduled 2024-01-01 11:59:59 UTC\n",
		"it ran for 1.5s\n",
		"error: sundial: task \"billing\" panicked: nil map\n",
		"```\ngoroutine 42 [running]:\npanic({0x6b8f20?, 0x8a1d30?})",
		"example.com/billing.charge(...)",
		"/src/billing/task.go:9 +0x25\n\n```")
	if strings.Contains(got, "runtime/debug.Stack") || strings.Contains(got, "(*worker).call") {
		t.Errorf("the frames of sundial's recovery were kept:\n%s", got)
	}
}

func TestTrimStack(t *testing.T) {
	tests := []struct{ in, want string }{
		{panicStack, "goroutine 42 [running]:\npanic({0x6b8f20?, 0x8a1d30?})"},
		{"no panic here\nframe()", "no panic here\nframe()"},
		{"frame()\npanic(1)\nuser()", "panic(1)\nuser()"},
	}
	for _, tt := range tests {
		if got := trimStack(tt.in); !strings.HasPrefix(got, tt.want) {
			t.Errorf("trimStack(%q) = %q, want prefix %q", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{strings.Repeat("a", 100), 30, strings.Repeat("a", 7) + "…[truncated 93 bytes]"}, // the marker is 23 bytes
		{strings.Repeat("é", 50), 30, strings.Repeat("é", 3) + "…[truncated 94 bytes]"},  // cut at a rune boundary
		{strings.Repeat("a", 100), 5, ""},                                                // no room for the marker
	}
	for _, tt := range tests {
		got := truncate(tt.s, tt.n)
		if got != tt.want {
			t.Errorf("truncate(%d bytes, %d) = %q, want %q", len(tt.s), tt.n, got, tt.want)
		}
		if len(got) > tt.n || !utf8.ValidString(got) {
			t.Errorf("truncate(%d bytes, %d) gave %d bytes, valid UTF-8 %v", len(tt.s), tt.n, len(got), utf8.ValidString(got))
		}
	}
}

// TestFitKeepsWithinLimit checks every size of error and stack against
// several limits: the text fits, the title and summary survive, and a cut
// says how much it cut.
func TestFitKeepsWithinLimit(t *testing.T) {
	for _, limit := range []int{minLimit, 1000, SlackLimit} {
		for _, size := range []int{0, 10, 200, 2999, 5000, 100000} {
			m := Message{Kind: KindFailed, Title: "Job j failed", JobID: "j", RunID: "R",
				Err: strings.Repeat("e", size/3), Stack: strings.Repeat("s", size),
				Suppressed: map[Kind]int{KindFailed: 3}, Since: start}
			got := fit(m, limit)
			if len(got.Text) > limit {
				t.Fatalf("limit %d, size %d: text of %d bytes", limit, size, len(got.Text))
			}
			if !strings.HasPrefix(got.Text, "Job j failed\n") || !strings.HasSuffix(got.Text, "and 3 more failures since 12:00:00 UTC\n") {
				t.Errorf("limit %d, size %d: title or summary lost:\n%s", limit, size, got.Text)
			}
			full := len(m.Err) + len(m.Stack)
			if cut := strings.Contains(got.Text, "…[truncated "); cut != (len(got.Text) < len(fit(m, 1<<30).Text)) {
				t.Errorf("limit %d, size %d (%d bytes of error and stack): marker %v, want it exactly when cut", limit, size, full, cut)
			}
		}
	}
}

func TestTruncationMarkerReachesSlack(t *testing.T) {
	f := setup(t, Config{}, nil)
	e := f.event(sundial.EventJobError, "deep", "R", start)
	var b strings.Builder
	b.WriteString("goroutine 1 [running]:\npanic(0x1)\n")
	for i := range 500 {
		fmt.Fprintf(&b, "example.com/deep.f%d()\n\t/src/deep.go:%d +0x1\n", i, i)
	}
	e.Err, e.Stack = "boom", b.String()
	f.a.Listen(e)
	got := f.text(t)
	if len(got) > SlackLimit {
		t.Errorf("Slack text of %d bytes, want at most %d", len(got), SlackLimit)
	}
	wantContains(t, got, "error: boom\n", "example.com/deep.f0()", "…[truncated ")
	if strings.Contains(got, "deep.f499()") {
		t.Error("the end of a stack longer than the limit was kept")
	}
}

func TestSummaryTail(t *testing.T) {
	tests := []struct {
		counts map[Kind]int
		want   string
	}{
		{nil, ""},
		{map[Kind]int{KindFailed: 1}, "and 1 more failure since 12:00:00 UTC\n"},
		{map[Kind]int{KindFailed: 37}, "and 37 more failures since 12:00:00 UTC\n"},
		{map[Kind]int{KindSlow: 2, KindFailed: 37}, "and 39 more alerts since 12:00:00 UTC (37 failures, 2 slow runs)\n"},
	}
	for _, tt := range tests {
		m := Message{Suppressed: tt.counts, Since: start}
		if got := m.tail(); got != tt.want {
			t.Errorf("tail(%v) = %q, want %q", tt.counts, got, tt.want)
		}
	}
}

func TestInterruptedAndNodeLost(t *testing.T) {
	f := setup(t, Config{}, nil)
	never := f.event(sundial.EventRunInterrupted, "a", "R0", start)
	never.Run.Started, never.Run.Reason = time.Time{}, sundial.ReasonShutdown
	f.a.Listen(never) // never started: it simply runs again, nothing to report
	e := f.event(sundial.EventRunInterrupted, "a", "R1", start)
	e.Err, e.Run.Reason, e.Run.Node = sundial.ReasonNodeLost, sundial.ReasonNodeLost, "n2"
	f.a.Listen(e)
	wantContains(t, f.text(t), "Job a was interrupted (node lost)\n", "run R1, node n2\n")
	f.a.Listen(sundial.Event{Type: sundial.EventNodeLost, Time: start, Node: "n1", Subject: "n2"})
	wantContains(t, f.text(t), "Node n2 was lost\n", "noticed by node n1")
	f.quiet(t)
}
