package sundial

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDecideFires(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	minute := MustEvery(time.Minute, &IntervalOptions{Start: t0})
	running := []*Run{{ID: "r1"}, {ID: "r2"}}
	tests := []struct {
		name    string
		job     Job
		running []*Run
		pending int
		now     time.Time
		want    string // the runs, as state@minute(reason), then cancels and the next fire
	}{
		{"one on time", Job{}, nil, 0, t0, "pending@0 next@1"},
		{"lookahead creates the next fire early", Job{}, nil, 0, t0.Add(-500 * time.Millisecond), "pending@0 next@1"},
		{"a fire ahead of its time ignores running runs", Job{NextFire: t0.Add(time.Minute)}, running[:1], 0, t0.Add(59*time.Second + 500*time.Millisecond), "pending@1 next@2"},
		{"but not waiting ones", Job{NextFire: t0.Add(time.Minute)}, running[:1], 1, t0.Add(59*time.Second + 500*time.Millisecond), "skipped@1(max instances) next@2"},
		{"backlog coalesced to the latest", Job{}, nil, 0, t0.Add(3 * time.Minute), "skipped@0(coalesced) skipped@1(coalesced) skipped@2(coalesced) pending@3 next@4"},
		{"backlog coalesced to the earliest", Job{Coalesce: CoalesceEarliest}, nil, 0, t0.Add(2 * time.Minute), "skipped@1(coalesced) skipped@2(coalesced) pending@0 next@3"},
		{"backlog, all run", Job{Coalesce: CoalesceAll, MaxInstances: 5}, nil, 0, t0.Add(2 * time.Minute), "pending@0 pending@1 pending@2 next@3"},
		{"beyond grace is missed", Job{MisfireGrace: 90 * time.Second, Coalesce: CoalesceAll, MaxInstances: 9}, nil, 0, t0.Add(2 * time.Minute), "missed@0(misfire) pending@1 pending@2 next@3"},
		{"max instances: skip", Job{}, running[:1], 0, t0, "skipped@0(max instances) next@1"},
		{"max instances counts pending runs", Job{}, nil, 1, t0, "skipped@0(max instances) next@1"},
		{"queue keeps one waiting", Job{Overlap: OverlapQueue, Coalesce: CoalesceAll}, running[:1], 0, t0.Add(time.Minute), "pending@0 skipped@1(max instances) next@2"},
		{"queue-all keeps all", Job{Overlap: OverlapQueueAll, Coalesce: CoalesceAll}, running[:1], 0, t0.Add(time.Minute), "pending@0 pending@1 next@2"},
		{"cancel-running cancels the oldest", Job{Overlap: OverlapCancelRunning, MaxInstances: 2}, running, 0, t0, "pending@0 cancel:r1 next@1"},
		{"end stops the fires", Job{End: t0.Add(time.Minute), Coalesce: CoalesceAll, MaxInstances: 9}, nil, 0, t0.Add(5 * time.Minute), "pending@0 pending@1 next@-"},
		{"not yet due", Job{NextFire: t0.Add(time.Hour)}, nil, 0, t0, "next@60"},
	}
	for _, tt := range tests {
		job := tt.job
		job.ID, job.Task, job.Trigger = "j", "t", minute
		if job.NextFire.IsZero() {
			job.NextFire = t0
		}
		n := 0
		c, err := decideFires(fireInput{due: DueJob{Job: &job, Running: tt.running, Pending: tt.pending, Token: 7},
			now: tt.now, horizon: tt.now.Add(time.Second), grace: time.Hour,
			newID: func() string { n++; return fmt.Sprint(n) }})
		if job.MisfireGrace > 0 {
			c, err = decideFires(fireInput{due: DueJob{Job: &job, Running: tt.running, Pending: tt.pending, Token: 7},
				now: tt.now, horizon: tt.now.Add(time.Second), grace: job.MisfireGrace,
				newID: func() string { n++; return fmt.Sprint(n) }})
		}
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := describeCommit(c, t0); got != tt.want || c.Token != 7 {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

func describeCommit(c FireCommit, t0 time.Time) string {
	var parts []string
	for _, r := range c.Runs {
		p := fmt.Sprintf("%s@%d", r.State, int(r.Scheduled.Sub(t0)/time.Minute))
		if r.Reason != "" {
			p += "(" + r.Reason + ")"
		}
		parts = append(parts, p)
	}
	for _, id := range c.Cancel {
		parts = append(parts, "cancel:"+id)
	}
	if c.NextFire.IsZero() {
		parts = append(parts, "next@-")
	} else {
		parts = append(parts, fmt.Sprintf("next@%d", int(c.NextFire.Sub(t0)/time.Minute)))
	}
	return strings.Join(parts, " ")
}

func TestDecideJitter(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	job := &Job{ID: "j", Task: "t", Trigger: MustEvery(time.Minute, &IntervalOptions{Start: t0, Jitter: 10 * time.Second}), NextFire: t0}
	c, _ := decideFires(fireInput{due: DueJob{Job: job}, now: t0, horizon: t0, grace: time.Minute,
		jitter: func(bound time.Duration) time.Duration { return bound / 2 }, newID: func() string { return "x" }})
	r := c.Runs[0]
	if r.Jitter != 5*time.Second || !r.Due.Equal(t0.Add(5*time.Second)) || !r.Scheduled.Equal(t0) {
		t.Errorf("jittered run = %+v", r)
	}
}

// TestDecideOverduePending: a fire decided ahead counts a pending run
// against MaxInstances only once that run is overdue, and only behind a
// run known to have been running for as long. Until it is overdue it is
// on its way to a worker (at 50,000 fires/s the previous second's run is
// often still pending when the next fire is decided); otherwise it is
// about to start (it waited for a slot, or for a dead node's run to be
// recovered, and the runs ahead of it are starting one after another).
func TestDecideOverduePending(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	now := t0.Add(59 * time.Second)
	busy := []*Run{{ID: "r1", Node: "n1", Started: now.Add(-2 * time.Second)}}
	fresh := []*Run{{ID: "r2", Node: "n1", Started: now.Add(-10 * time.Millisecond)}} // the backlog starting
	for _, tt := range []struct {
		pendingDue  time.Time
		running     []*Run
		unconfirmed int
		want        string
	}{
		{now.Add(-100 * time.Millisecond), busy, 0, "pending@1 next@2"},
		{now.Add(-2 * time.Second), busy, 0, "skipped@1(max instances) next@2"},
		{now.Add(-2 * time.Second), nil, 0, "pending@1 next@2"},
		{now.Add(-2 * time.Second), busy, 1, "pending@1 next@2"},
		{now.Add(-2 * time.Second), fresh, 0, "pending@1 next@2"},
	} {
		job := &Job{ID: "j", Task: "t", Trigger: MustEvery(time.Minute, &IntervalOptions{Start: t0}), NextFire: t0.Add(time.Minute)}
		c, err := decideFires(fireInput{due: DueJob{Job: job, Pending: 1, PendingDue: tt.pendingDue, Running: tt.running, Unconfirmed: tt.unconfirmed},
			now: now, horizon: now.Add(time.Second), grace: time.Hour, overdue: 500 * time.Millisecond,
			newID: func() string { return "x" }})
		if got := describeCommit(c, t0); err != nil || got != tt.want {
			t.Errorf("pending due %s, %d running (%d unconfirmed): got %s, %v; want %s",
				tt.pendingDue.Format(time.TimeOnly), len(tt.running), tt.unconfirmed, got, err, tt.want)
		}
	}
}

// TestDecideUnconfirmed: runs whose node has not heartbeated since it
// started them may be held by a dead node, so a fire they would push past
// MaxInstances is queued, not skipped; confirmed runs still skip it.
func TestDecideUnconfirmed(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	now := t0.Add(59 * time.Second)
	held := []*Run{{ID: "r1", Node: "n2"}}
	for _, tt := range []struct {
		name        string
		unconfirmed int
		now         time.Time
		pending     int
		want        string
	}{
		{"due, held by a confirmed run", 0, t0.Add(time.Minute), 0, "skipped@1(max instances) next@2"},
		{"due, held by an unconfirmed run", 1, t0.Add(time.Minute), 0, "pending@1 next@2"},
		{"ahead, an overdue fire waits behind a confirmed run", 0, now, 1, "skipped@1(max instances) next@2"},
		{"ahead, an overdue fire waits behind an unconfirmed run", 1, now, 1, "pending@1 next@2"},
	} {
		job := &Job{ID: "j", Task: "t", Trigger: MustEvery(time.Minute, &IntervalOptions{Start: t0}), NextFire: t0.Add(time.Minute)}
		due := DueJob{Job: job, Running: held, Unconfirmed: tt.unconfirmed, Pending: tt.pending}
		if tt.pending > 0 {
			due.PendingDue = now.Add(-2 * time.Second)
		}
		c, err := decideFires(fireInput{due: due, now: tt.now, horizon: tt.now.Add(time.Second), grace: time.Hour,
			overdue: 500 * time.Millisecond, newID: func() string { return "x" }})
		if got := describeCommit(c, t0); err != nil || got != tt.want {
			t.Errorf("%s: got %s, %v; want %s", tt.name, got, err, tt.want)
		}
	}
}

// TestDecideLapsed: fires that fell due while a dead node's claim held the
// job are each queued, neither coalesced nor skipped; the misfire grace
// still applies, and fires after the lapse follow the job's policies.
func TestDecideLapsed(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name   string
		lapsed time.Time
		grace  time.Duration
		now    time.Time
		want   string
	}{
		{"no lapse: coalesced", time.Time{}, time.Hour, t0.Add(150 * time.Second), "skipped@0(coalesced) skipped@1(coalesced) pending@2 next@3"},
		{"held by a lapsed claim: each queued", t0.Add(150 * time.Second), time.Hour, t0.Add(150 * time.Second), "pending@0 pending@1 pending@2 next@3"},
		{"beyond the grace still missed", t0.Add(150 * time.Second), 100 * time.Second, t0.Add(150 * time.Second), "missed@0(misfire) pending@1 pending@2 next@3"},
		{"after the lapse, the policies again", t0.Add(30 * time.Second), time.Hour, t0.Add(150 * time.Second), "skipped@1(coalesced) pending@0 pending@2 next@3"},
	} {
		job := &Job{ID: "j", Task: "t", Trigger: MustEvery(time.Minute, &IntervalOptions{Start: t0}), NextFire: t0}
		c, err := decideFires(fireInput{due: DueJob{Job: job, Lapsed: tt.lapsed}, now: tt.now, horizon: tt.now.Add(time.Second),
			grace: tt.grace, overdue: 500 * time.Millisecond, newID: func() string { return "x" }})
		if got := describeCommit(c, t0); err != nil || got != tt.want {
			t.Errorf("%s:\n got %s, %v\nwant %s", tt.name, got, err, tt.want)
		}
	}
}

// TestDecideFastJob: a job firing more often than the lookahead has
// several fires in one decision; with MaxInstances 1 each future one is
// admitted (they run one after another), not skipped for the earlier ones.
func TestDecideFastJob(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)
	job := &Job{ID: "j", Task: "t", Trigger: MustEvery(200*time.Millisecond, &IntervalOptions{Start: t0}), NextFire: t0}
	c, err := decideFires(fireInput{due: DueJob{Job: job}, now: t0.Add(-100 * time.Millisecond), horizon: t0.Add(900 * time.Millisecond),
		grace: time.Hour, overdue: 500 * time.Millisecond, newID: func() string { return "x" }})
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, r := range c.Runs {
		states = append(states, r.State.String())
	}
	if got := strings.Join(states, " "); got != "pending pending pending pending pending" || !c.NextFire.Equal(t0.Add(time.Second)) {
		t.Errorf("fires every 200 ms, 1 s ahead: %s, next %s", got, c.NextFire.Format(time.TimeOnly))
	}
}
