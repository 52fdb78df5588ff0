package sundial

import (
	"errors"
	"testing"
	"time"
)

func TestCronTrigger(t *testing.T) {
	ny := MustCron("30 2 * * *", &CronOptions{TimeZone: "America/New_York"})
	from := mustTime(t, "2024-03-08T12:00:00-05:00")
	checkFires(t, "NY 02:30 across the spring gap", fires(t, ny, from, 3),
		"2024-03-09T02:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00")
	skip := MustCron("30 2 * * *", &CronOptions{TimeZone: "America/New_York", Gap: 1})
	checkFires(t, "NY 02:30 gap skip", fires(t, skip, from, 2),
		"2024-03-09T02:30:00-05:00", "2024-03-11T02:30:00-04:00")
	if ny.Schedule() == nil || ny.String() != "cron 30 2 * * * (America/New_York)" {
		t.Errorf("String() = %q", ny.String())
	}
	if s := MustCron("0 0 0 1 1 * 2020", nil); mustNext(t, s, from) != (time.Time{}) {
		t.Error("an exhausted year field should give the zero time")
	}
}

func mustNext(t *testing.T, tr Trigger, from time.Time) time.Time {
	t.Helper()
	n, err := tr.Next(from)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIntervalTrigger(t *testing.T) {
	start := mustTime(t, "2024-03-10T00:00:00-05:00")
	tr := MustEvery(90*time.Minute, &IntervalOptions{Start: start, End: start.Add(6 * time.Hour)})
	before := start.Add(-time.Hour)
	checkFires(t, "anchored, across the NY gap, bounded by end", fires(t, tr, before, 10),
		"2024-03-10T00:00:00-05:00", "2024-03-10T01:30:00-05:00", "2024-03-10T03:00:00-05:00",
		"2024-03-10T04:30:00-05:00", "2024-03-10T06:00:00-05:00")
	// Asking from any point gives the same grid: no drift.
	if got := mustNext(t, tr, start.Add(100*time.Minute+time.Nanosecond)); !got.Equal(start.Add(180 * time.Minute)) {
		t.Errorf("Next mid-period = %s", got)
	}
	if got := mustNext(t, tr, start); !got.Equal(start.Add(90 * time.Minute)) {
		t.Errorf("Next(start) = %s, want strictly after", got)
	}
	unanchored := MustEvery(time.Hour, nil)
	if got := mustNext(t, unanchored, mustTime(t, "2024-01-01T10:20:00Z")); !got.Equal(mustTime(t, "2024-01-01T11:00:00Z")) {
		t.Errorf("unanchored hourly = %s, want the epoch grid", got)
	}
	a := unanchored.Anchored(mustTime(t, "2024-01-01T10:20:00Z"))
	if got := mustNext(t, a, mustTime(t, "2024-01-01T10:30:00Z")); !got.Equal(mustTime(t, "2024-01-01T11:20:00Z")) {
		t.Errorf("anchored copy = %s", got)
	}
	if a2 := a.Anchored(time.Unix(0, 0)); a2 != a || unanchored.Start() != (time.Time{}) {
		t.Error("Anchored must not move an existing anchor or change the original")
	}
	far := MustEvery(time.Second, &IntervalOptions{Start: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)})
	if got := mustNext(t, far, mustTime(t, "2024-01-01T00:00:00.5Z")); !got.Equal(mustTime(t, "2024-01-01T00:00:01Z")) {
		t.Errorf("anchor far in the past: %s", got)
	}
}

func TestDateTrigger(t *testing.T) {
	at := mustTime(t, "2024-05-01T09:00:00+09:00")
	tr := MustAt(at, nil)
	checkFires(t, "one fire", fires(t, tr, at.Add(-time.Hour), 5), "2024-05-01T09:00:00+09:00")
	if got := mustNext(t, tr, at); !got.IsZero() {
		t.Errorf("Next(at) = %s, want none", got)
	}
}

func TestCalendarTrigger(t *testing.T) {
	from := mustTime(t, "2024-01-01T00:00:00Z")
	tests := []struct {
		name string
		spec CalendarSpec
		want []string
	}{
		{"every 2 months on the 31st, clamped", CalendarSpec{Months: 2, At: "09:00", StartDate: "2024-01-31"},
			[]string{"2024-01-31T09:00:00Z", "2024-03-31T09:00:00Z", "2024-05-31T09:00:00Z", "2024-07-31T09:00:00Z",
				"2024-09-30T09:00:00Z", "2024-11-30T09:00:00Z", "2025-01-31T09:00:00Z"}},
		{"every month on the 31st, skipped", CalendarSpec{Months: 1, StartDate: "2024-01-31", MissingDay: MissingDaySkip},
			[]string{"2024-01-31T00:00:00Z", "2024-03-31T00:00:00Z", "2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z"}},
		{"yearly on Feb 29, clamped", CalendarSpec{Years: 1, At: "12:00", StartDate: "2024-02-29"},
			[]string{"2024-02-29T12:00:00Z", "2025-02-28T12:00:00Z", "2026-02-28T12:00:00Z", "2027-02-28T12:00:00Z", "2028-02-29T12:00:00Z"}},
		{"yearly on Feb 29, skipped", CalendarSpec{Years: 1, StartDate: "2024-02-29", MissingDay: MissingDaySkip},
			[]string{"2024-02-29T00:00:00Z", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"every 2 weeks, with an end", CalendarSpec{Weeks: 2, At: "08:30:15", StartDate: "2024-01-05", EndDate: "2024-02-16"},
			[]string{"2024-01-05T08:30:15Z", "2024-01-19T08:30:15Z", "2024-02-02T08:30:15Z", "2024-02-16T08:30:15Z"}},
		{"daily 02:30 NY, gap and overlap", CalendarSpec{Days: 1, At: "02:30", StartDate: "2024-03-09", TimeZone: "America/New_York"},
			[]string{"2024-03-09T02:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"}},
		{"daily 01:30 NY, overlap fires at the first", CalendarSpec{Days: 1, At: "01:30", StartDate: "2024-11-02", TimeZone: "America/New_York"},
			[]string{"2024-11-02T01:30:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}},
		{"daily 02:15 Lord Howe, 30-minute gap", CalendarSpec{Days: 1, At: "02:15", StartDate: "2024-10-05", TimeZone: "Australia/Lord_Howe"},
			[]string{"2024-10-05T02:15:00+10:30", "2024-10-06T02:30:00+11:00", "2024-10-07T02:15:00+11:00"}},
	}
	for _, tt := range tests {
		tr, err := Calendar(tt.spec)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		start := from
		if tt.spec.TimeZone != "" {
			start = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		got := fires(t, tr, start, len(tt.want))
		for i := range got {
			got[i] = mustTime(t, got[i]).In(tr.loc).Format(time.RFC3339)
		}
		checkFires(t, tt.name, got, tt.want...)
	}
}

// TestCalendarNextAgreesWithSequence checks the estimate that lets Next jump
// far ahead: from any instant it must find the same fire as walking the
// sequence one occurrence at a time.
func TestCalendarNextAgreesWithSequence(t *testing.T) {
	for _, spec := range []CalendarSpec{
		{Months: 1, StartDate: "2000-01-31", TimeZone: "America/New_York", At: "02:30"},
		{Months: 5, Days: 3, StartDate: "2001-03-15"},
		{Years: 1, StartDate: "2000-02-29", MissingDay: MissingDaySkip},
		{Weeks: 3, StartDate: "1999-12-31", TimeZone: "Australia/Lord_Howe", At: "02:10"},
	} {
		tr := MustCalendar(spec)
		var seq []time.Time
		for at := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC); len(seq) < 400; {
			at = mustNext(t, tr, at)
			seq = append(seq, at)
		}
		for i := 1; i < len(seq); i++ {
			mid := seq[i-1].Add(seq[i].Sub(seq[i-1]) / 2)
			if got := mustNext(t, tr, mid); !got.Equal(seq[i]) {
				t.Fatalf("%+v: Next(%s) = %s, want %s", spec, mid, got, seq[i])
			}
		}
	}
}

func TestCombinations(t *testing.T) {
	friday13, err := And([]Trigger{MustCron("0 0 13 * *", nil), MustCron("0 0 * * FRI", nil)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkFires(t, "Friday the 13th", fires(t, friday13, mustTime(t, "2024-01-01T00:00:00Z"), 3),
		"2024-09-13T00:00:00Z", "2024-12-13T00:00:00Z", "2025-06-13T00:00:00Z")

	near, _ := And([]Trigger{MustCron("0 12 * * *", nil), MustCron("59 11 * * MON", nil)},
		&CombineOptions{Threshold: 90 * time.Second})
	checkFires(t, "threshold takes the later time", fires(t, near, mustTime(t, "2024-01-01T00:00:00Z"), 2),
		"2024-01-01T12:00:00Z", "2024-01-08T12:00:00Z")

	odd := MustEvery(2*time.Hour, nil)
	even := MustEvery(2*time.Hour, &IntervalOptions{Start: time.Unix(3600, 0)})
	never, _ := And([]Trigger{odd, even}, &CombineOptions{MaxIterations: 100})
	if _, err := never.Next(time.Unix(0, 0)); !errors.Is(err, ErrSearchLimit) {
		t.Errorf("disjoint And: err = %v, want ErrSearchLimit", err)
	}
	ended, _ := And([]Trigger{MustAt(time.Unix(100, 0), nil), odd}, nil)
	if got := mustNext(t, ended, time.Unix(0, 0)); !got.IsZero() {
		t.Errorf("And with a finished part = %s, want none", got)
	}

	either, _ := Or([]Trigger{MustCron("0 9 * * *", nil), MustCron("0 9,17 * * *", nil), MustAt(mustTime(t, "2024-01-01T12:00:00Z"), nil)}, nil)
	checkFires(t, "Or merges and dedups", fires(t, either, mustTime(t, "2024-01-01T00:00:00Z"), 4),
		"2024-01-01T09:00:00Z", "2024-01-01T12:00:00Z", "2024-01-01T17:00:00Z", "2024-01-02T09:00:00Z")
	bad, _ := Or([]Trigger{never, odd}, nil)
	if _, err := bad.Next(time.Unix(0, 0)); !errors.Is(err, ErrSearchLimit) {
		t.Errorf("Or over a failing part: err = %v", err)
	}
	if len(either.Triggers()) != 3 || either.Options().MaxIterations != 0 {
		t.Error("accessors")
	}
}

func TestWallInstant(t *testing.T) {
	tests := []struct {
		zone string
		wall [5]int
		want string
	}{
		{"America/New_York", [5]int{2024, 3, 10, 2, 30}, "2024-03-10T03:00:00-04:00"},
		{"America/New_York", [5]int{2024, 11, 3, 1, 30}, "2024-11-03T01:30:00-04:00"},
		{"Europe/London", [5]int{2024, 3, 31, 1, 30}, "2024-03-31T02:00:00+01:00"},
		{"Europe/London", [5]int{2024, 10, 27, 1, 30}, "2024-10-27T01:30:00+01:00"},
		{"Australia/Lord_Howe", [5]int{2024, 10, 6, 2, 15}, "2024-10-06T02:30:00+11:00"},
		{"Australia/Lord_Howe", [5]int{2024, 4, 7, 1, 45}, "2024-04-07T01:45:00+11:00"},
		{"Asia/Seoul", [5]int{2024, 6, 1, 9, 0}, "2024-06-01T09:00:00+09:00"},
	}
	for _, tt := range tests {
		w := tt.wall
		got := wallInstant(w[0], time.Month(w[1]), w[2], w[3], w[4], 0, mustZone(t, tt.zone)).Format(time.RFC3339)
		if got != tt.want {
			t.Errorf("%s %v: got %s, want %s", tt.zone, w, got, tt.want)
		}
	}
}
