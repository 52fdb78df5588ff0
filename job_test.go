package sundial

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleJob() *Job {
	return &Job{
		ID: "reports.hourly", Name: "Hourly report", Task: "reports.hourly",
		Args:    json.RawMessage(`{"team":"ops"}`),
		Trigger: MustCron("0 * * * *", &CronOptions{TimeZone: "Asia/Seoul"}),
		Start:   time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		NextFire:     time.Date(2024, 1, 1, 1, 0, 0, 0, time.UTC),
		MisfireGrace: time.Minute, Coalesce: CoalesceAll, MaxInstances: 3, Overlap: OverlapQueueAll,
		Executor: "reports", Jitter: time.Second, Timeout: time.Hour,
		Retry:     RetryPolicy{Attempts: 5, Backoff: time.Second, MaxBackoff: time.Minute, Multiplier: 3},
		SlowAfter: -1, Paused: true, Tags: []string{"reports", "hourly"}, Metadata: map[string]string{"owner": "ops"},
		Version: 7, Created: time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC), Updated: time.Date(2023, 12, 2, 0, 0, 0, 0, time.UTC),
	}
}

func TestJobJSONRoundTrip(t *testing.T) {
	for _, j := range []*Job{sampleJob(), {ID: "a", Task: "b", Trigger: MustEvery(time.Minute, nil)}} {
		data, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		var back Job
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatalf("unmarshal %s: %v", data, err)
		}
		again, _ := json.Marshal(&back)
		if string(again) != string(data) {
			t.Errorf("round trip changed the job:\n was %s\n now %s", data, again)
		}
	}
}

func TestJobUnmarshalBadInput(t *testing.T) {
	base := `"id":"a","task":"t","trigger":{"kind":"interval","every":"1m"}`
	tests := []struct{ json, field string }{
		{`{"task":"t","trigger":{"kind":"interval","every":"1m"}}`, "id"},
		{`{"id":"a","trigger":{"kind":"interval","every":"1m"}}`, "task"},
		{`{"id":"a","task":"t"}`, "trigger"},
		{`{"id":"a","task":"t","trigger":{"kind":"cron","expr":"* * *"}}`, "trigger.expr"},
		{`{` + base + `,"start":"soon"}`, "start"},
		{`{` + base + `,"misfire_grace":"-1s"}`, "misfire_grace"},
		{`{` + base + `,"timeout":"forever"}`, "timeout"},
		{`{` + base + `,"slow_after":"x"}`, "slow_after"},
		{`{` + base + `,"retry":{"attempts":3,"backoff":"-1s"}}`, "retry.backoff"},
		{`{` + base + `,"retry":{"attempts":-3}}`, "retry.attempts"},
		{`{` + base + `,"retry":{"attempts":3,"multiplier":0.5}}`, "retry.multiplier"},
		{`{` + base + `,"max_instances":-1}`, "max_instances"},
		{`{` + base + `,"max_instances":4294967296}`, "max_instances"},
		{`{` + base + `,"coalesce":"sometimes"}`, "coalesce"},
		{`{` + base + `,"overlap":"maybe"}`, "overlap"},
		{`{` + base + `,"args":"not json`, ""},
		{`{` + base + `,"colour":"blue"}`, ""},
		{`{` + base + `,"start":"2024-02-01T00:00:00Z","end":"2024-01-01T00:00:00Z"}`, "end"},
	}
	for _, tt := range tests {
		j := Job{ID: "unchanged"}
		err := json.Unmarshal([]byte(tt.json), &j)
		if err == nil {
			t.Errorf("%s: no error", tt.json)
			continue
		}
		var fe *FieldError
		if tt.field != "" && (!errors.As(err, &fe) || !strings.HasPrefix(fe.Field, tt.field)) {
			t.Errorf("%s: error %v, want field %q", tt.json, err, tt.field)
		}
		if j.ID != "unchanged" {
			t.Errorf("%s: the job was changed by a failed decode", tt.json)
		}
	}
}

func TestJobValidate(t *testing.T) {
	ok := func() *Job { return &Job{ID: "a", Task: "t", Trigger: MustEvery(time.Minute, nil)} }
	tests := []struct {
		field string
		edit  func(*Job)
	}{
		{"id", func(j *Job) { j.ID = "" }},
		{"id", func(j *Job) { j.ID = strings.Repeat("x", 256) }},
		{"task", func(j *Job) { j.Task = "" }},
		{"trigger", func(j *Job) { j.Trigger = nil }},
		{"args", func(j *Job) { j.Args = json.RawMessage(`{`) }},
		{"jitter", func(j *Job) { j.Jitter = -1 }},
		{"timeout", func(j *Job) { j.Timeout = -1 }},
		{"coalesce", func(j *Job) { j.Coalesce = 9 }},
		{"overlap", func(j *Job) { j.Overlap = 9 }},
		{"retry.max_backoff", func(j *Job) { j.Retry.MaxBackoff = -1 }},
	}
	if err := ok().Validate(); err != nil {
		t.Fatalf("valid job: %v", err)
	}
	for _, tt := range tests {
		j := ok()
		tt.edit(j)
		var fe *FieldError
		if err := j.Validate(); !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("want a *FieldError for %q, got %v", tt.field, err)
		}
	}
}

func TestRetryDelay(t *testing.T) {
	p := RetryPolicy{Attempts: 6, Backoff: time.Second, MaxBackoff: 5 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second}
	for i, w := range want {
		if d, ok := p.Delay(i + 2); !ok || d != w {
			t.Errorf("Delay(%d) = %v, %v; want %v", i+2, d, ok, w)
		}
	}
	if _, ok := p.Delay(7); ok {
		t.Error("Delay beyond Attempts should refuse")
	}
	if _, ok := (RetryPolicy{}).Delay(2); ok {
		t.Error("the zero policy retries nothing")
	}
}

func TestPlanRetry(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	job := &Job{ID: "j", Retry: RetryPolicy{Attempts: 2, Backoff: time.Minute}}
	run := &Run{ID: "r", JobID: "j", Attempt: 1, State: RunFailed, Scheduled: now.Add(-time.Hour)}
	next := PlanRetry(job, run, now)
	if next == nil || next.Attempt != 2 || !next.Due.Equal(now.Add(time.Minute)) || next.State != RunPending ||
		!next.Scheduled.Equal(run.Scheduled) || next.ID == run.ID {
		t.Fatalf("PlanRetry = %+v", next)
	}
	if PlanRetry(job, next, now) != nil {
		t.Error("attempt 3 of 2 planned")
	}
	if PlanRetry(nil, run, now) != nil {
		t.Error("a run of a removed job is not retried")
	}
}

func TestEnums(t *testing.T) {
	for _, s := range []string{"latest", "earliest", "all"} {
		if p, err := ParseCoalescePolicy(s); err != nil || p.String() != s {
			t.Errorf("coalesce %q: %v %v", s, p, err)
		}
	}
	for _, s := range []string{"skip", "queue", "queue-all", "cancel-running"} {
		if p, err := ParseOverlapPolicy(s); err != nil || p.String() != s {
			t.Errorf("overlap %q: %v %v", s, p, err)
		}
	}
	for _, s := range []string{"replace", "keep-existing", "error"} {
		if p, err := ParseConflictPolicy(s); err != nil || p.String() != s {
			t.Errorf("conflict %q: %v %v", s, p, err)
		}
	}
	for _, s := range []string{"all", "scheduler", "worker", "client"} {
		if r, err := ParseRole(s); err != nil || r.String() != s {
			t.Errorf("role %q: %v %v", s, r, err)
		}
	}
	if r, err := ParseRole("both"); err != nil || r != RoleAll {
		t.Errorf("role both: %v %v", r, err)
	}
	for _, s := range []string{"pending", "running", "succeeded", "failed", "interrupted", "missed", "skipped"} {
		if st, err := ParseRunState(s); err != nil || st.String() != s {
			t.Errorf("state %q: %v %v", s, st, err)
		}
	}
	for _, bad := range []error{second(ParseCoalescePolicy("x")), second(ParseOverlapPolicy("x")),
		second(ParseConflictPolicy("x")), second(ParseRole("x")), second(ParseRunState("x"))} {
		if !errors.Is(bad, ErrInvalid) {
			t.Errorf("bad enum: %v", bad)
		}
	}
	if got := (EventJobError | EventJobMissed).String(); got != "job_error|job_missed" {
		t.Errorf("EventType.String = %q", got)
	}
	if EventAll&EventTaskMissing == 0 || EventType(0).String() != "none" {
		t.Error("EventAll must include every type")
	}
}

func TestNewRunID(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	a, b := NewRunID(now), NewRunID(now.Add(time.Millisecond))
	if len(a) != 26 || a == b || a >= b {
		t.Errorf("ids %q %q: want 26 characters, unique, sorted by time", a, b)
	}
	// IDs made in one millisecond share the time's 10 characters and
	// differ in their random 16.
	seen := map[string]bool{}
	for range 10000 {
		id := NewRunID(now)
		if id[:10] != a[:10] || seen[id] {
			t.Fatalf("id %q: want the prefix %q and no repeat in 10,000", id, a[:10])
		}
		seen[id] = true
	}
}

func TestRunCheckNew(t *testing.T) {
	ok := Run{ID: "r", JobID: "j", Attempt: 1, State: RunPending}
	if err := ok.CheckNew(); err != nil {
		t.Fatalf("a good run: %v", err)
	}
	for _, tt := range []struct {
		edit  func(*Run)
		field string
	}{
		{func(r *Run) { r.ID = "" }, "run.id"},
		{func(r *Run) { r.JobID = "" }, "run.job_id"},
		{func(r *Run) { r.Attempt = 0 }, "run.attempt"},
		{func(r *Run) { r.State = RunRunning }, "run.state"},
		{func(r *Run) { r.State = 0 }, "run.state"},
	} {
		r := ok
		tt.edit(&r)
		var fe *FieldError
		if err := r.CheckNew(); !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%+v: %v, want a field error on %s", r, err, tt.field)
		}
	}
	var nilRun *Run
	if err := nilRun.CheckNew(); !errors.Is(err, ErrInvalid) {
		t.Errorf("nil run: %v", err)
	}
}

func TestCheckFinish(t *testing.T) {
	done := &Run{ID: "r", JobID: "j", Attempt: 1, State: RunSucceeded}
	retry := &Run{ID: "r2", JobID: "j", Attempt: 2, State: RunPending}
	if err := CheckFinish(done, retry); err != nil {
		t.Fatalf("a good end: %v", err)
	}
	for _, tt := range []struct {
		name       string
		run, retry *Run
		field      string
	}{
		{"nil run", nil, nil, "run.state"},
		{"still running", &Run{ID: "r", State: RunRunning}, nil, "run.state"},
		{"retry without an ID", done, &Run{JobID: "j", Attempt: 2, State: RunPending}, "run.id"},
		{"retry already running", done, &Run{ID: "x", JobID: "j", Attempt: 2, State: RunRunning}, "run.state"},
	} {
		var fe *FieldError
		if err := CheckFinish(tt.run, tt.retry); !errors.As(err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: %v, want a field error on %s", tt.name, err, tt.field)
		}
	}
}
