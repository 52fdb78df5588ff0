package sundial

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// fires returns the first n fires of tr strictly after from.
func fires(t *testing.T, tr Trigger, from time.Time, n int) []string {
	t.Helper()
	var out []string
	for range n {
		next, err := tr.Next(from)
		if err != nil {
			t.Fatalf("Next(%s): %v", from, err)
		}
		if next.IsZero() {
			break
		}
		if !next.After(from) {
			t.Fatalf("Next(%s) = %s, not after", from, next)
		}
		out = append(out, next.Format(time.RFC3339))
		from = next
	}
	return out
}

func checkFires(t *testing.T, name string, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s:\n got %v\nwant %v", name, got, want)
	}
}

func TestTriggerRoundTrip(t *testing.T) {
	nyStart := time.Date(2024, 3, 9, 12, 0, 0, 0, mustZone(t, "America/New_York"))
	triggers := []Trigger{
		MustCron("30 2 * * *", &CronOptions{TimeZone: "America/New_York"}),
		MustCron("0 0 13 * FRI", &CronOptions{TimeZone: "Europe/London", DayRule: 1, Gap: 1, Overlap: 2, Jitter: 3 * time.Second}),
		MustCron("@every 90s", nil),
		MustEvery(time.Hour, nil),
		MustEvery(90*time.Minute, &IntervalOptions{Start: nyStart, End: nyStart.AddDate(0, 1, 0), Jitter: time.Second}),
		MustAt(nyStart, nil),
		MustAt(time.Date(2030, 1, 1, 0, 0, 0, 123, time.UTC), &DateOptions{Jitter: time.Minute}),
		MustCalendar(CalendarSpec{Months: 2, At: "09:00", StartDate: "2024-01-31", TimeZone: "Europe/Paris"}),
		MustCalendar(CalendarSpec{Years: 1, Weeks: 1, Days: 2, At: "23:59:59", StartDate: "2024-02-29", EndDate: "2040-01-01", MissingDay: MissingDaySkip, Jitter: time.Millisecond}),
	}
	and, err := And([]Trigger{triggers[0], MustEvery(30*time.Minute, nil)}, &CombineOptions{Threshold: time.Minute, MaxIterations: 50})
	if err != nil {
		t.Fatal(err)
	}
	or, err := Or([]Trigger{and, triggers[5], triggers[7]}, &CombineOptions{Jitter: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	triggers = append(triggers, and, or)
	from := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tr := range triggers {
		data, err := json.Marshal(tr)
		if err != nil {
			t.Fatalf("%s: marshal: %v", tr.Kind(), err)
		}
		back, err := UnmarshalTrigger(data)
		if err != nil {
			t.Fatalf("%s: unmarshal %s: %v", tr.Kind(), data, err)
		}
		again, _ := json.Marshal(back)
		if string(again) != string(data) {
			t.Errorf("round trip changed the JSON:\n was %s\n now %s", data, again)
		}
		if back.Kind() != tr.Kind() || back.Jitter() != tr.Jitter() {
			t.Errorf("%s: kind/jitter changed: %s %v", data, back.Kind(), back.Jitter())
		}
		checkFires(t, string(data), fires(t, back, from, 20), fires(t, tr, from, 20)...)
	}
}

func TestUnmarshalTriggerBadInput(t *testing.T) {
	tests := []struct {
		json, field, problem string
	}{
		{`{`, "trigger", "malformed JSON"},
		{`[]`, "trigger", "malformed JSON"},
		{`{}`, "trigger.kind", "missing"},
		{`{"kind":"weekly"}`, "trigger.kind", `unknown trigger kind "weekly"`},
		{`{"kind":"cron"}`, "trigger.expr", "cron:"},
		{`{"kind":"cron","expr":"61 * * * *"}`, "trigger.expr", `minute field: "61"`},
		{`{"kind":"cron","expr":"* * * * *","timezone":"Mars/Olympus"}`, "trigger.timezone", `unknown time zone "Mars/Olympus"`},
		{`{"kind":"cron","expr":"* * * * *","gap":"leap"}`, "trigger.gap", "leap"},
		{`{"kind":"cron","expr":"* * * * *","overlap":"twice"}`, "trigger.overlap", "twice"},
		{`{"kind":"cron","expr":"* * * * *","day_rule":"xor"}`, "trigger.day_rule", "xor"},
		{`{"kind":"cron","expr":"* * * * *","jitter":"-1s"}`, "trigger.jitter", "negative"},
		{`{"kind":"cron","expr":"* * * * *","jitter":"soon"}`, "trigger.jitter", "not a duration"},
		{`{"kind":"cron","expr":"* * * * *","every":"1h"}`, "trigger", `unknown field "every"`},
		{`{"kind":"interval"}`, "trigger.every", "missing"},
		{`{"kind":"interval","every":"0s"}`, "trigger.every", "not positive"},
		{`{"kind":"interval","every":"-5m"}`, "trigger.every", "negative"},
		{`{"kind":"interval","every":"1h","start":"yesterday"}`, "trigger.start", "not an RFC 3339 time"},
		{`{"kind":"interval","every":"1h","start":"2024-01-02T00:00:00Z","end":"2024-01-01T00:00:00Z"}`, "trigger.end", "before start"},
		{`{"kind":"interval","every":5}`, "trigger", "malformed JSON"},
		{`{"kind":"date"}`, "trigger.at", "missing"},
		{`{"kind":"date","at":"2024-13-01T00:00:00Z"}`, "trigger.at", "not an RFC 3339 time"},
		{`{"kind":"date","at":"2024-01-01T00:00:00Z","timezone":"Pluto"}`, "trigger.timezone", "unknown time zone"},
		{`{"kind":"calendar","start_date":"2024-01-01"}`, "trigger.months", "period is empty"},
		{`{"kind":"calendar","months":-1,"start_date":"2024-01-01"}`, "trigger.months", "negative"},
		{`{"kind":"calendar","days":1}`, "trigger.start_date", "missing"},
		{`{"kind":"calendar","days":1,"start_date":"2024-02-30"}`, "trigger.start_date", "not a date"},
		{`{"kind":"calendar","days":1,"start_date":"2024-02-01","end_date":"2024-01-01"}`, "trigger.end_date", "before start_date"},
		{`{"kind":"calendar","days":1,"start_date":"2024-02-01","at":"25:00"}`, "trigger.at", "not a time of day"},
		{`{"kind":"calendar","days":1,"start_date":"2024-02-01","missing_day":"wrap"}`, "trigger.missing_day", "wrap"},
		{`{"kind":"calendar","days":1,"start_date":"2024-02-01","timezone":"Nowhere"}`, "trigger.timezone", "unknown time zone"},
		{`{"kind":"and","triggers":[{"kind":"date","at":"2024-01-01T00:00:00Z"}]}`, "trigger.triggers", "want at least 2"},
		{`{"kind":"or","triggers":[{"kind":"date","at":"2024-01-01T00:00:00Z"},{"kind":"cron","expr":"0 0 32 * *"}]}`, "trigger.triggers[1].expr", "day-of-month"},
		{`{"kind":"and","threshold":"-1s","triggers":[{"kind":"date","at":"2024-01-01T00:00:00Z"},{"kind":"date","at":"2024-01-01T00:00:00Z"}]}`, "trigger.threshold", "negative"},
		{`{"kind":"and","max_iterations":-1,"triggers":[{"kind":"date","at":"2024-01-01T00:00:00Z"},{"kind":"date","at":"2024-01-01T00:00:00Z"}]}`, "trigger.max_iterations", "negative"},
		{strings.Repeat(`{"kind":"or","triggers":[`, 20) + `{}` + strings.Repeat(`]}`, 20), "trigger", "deeper than"},
	}
	for _, tt := range tests {
		tr, err := UnmarshalTrigger([]byte(tt.json))
		if err == nil {
			t.Errorf("%s: got %v, want an error", tt.json, tr)
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: error %T %v is not a *FieldError matching ErrInvalid", tt.json, err, err)
			continue
		}
		if !strings.HasPrefix(fe.Field, tt.field) || !strings.Contains(err.Error(), tt.problem) {
			t.Errorf("%s:\n got field %q, error %q\nwant field %q, containing %q", tt.json, fe.Field, err, tt.field, tt.problem)
		}
	}
}

func TestConstructorsBadInput(t *testing.T) {
	date := MustAt(time.Unix(0, 0), nil)
	tests := []struct {
		name, field string
		err         error
	}{
		{"cron expr", "expr", second(Cron("* * *", nil))},
		{"cron zone", "timezone", second(Cron("* * * * *", &CronOptions{TimeZone: "Atlantis"}))},
		{"cron jitter", "jitter", second(Cron("* * * * *", &CronOptions{Jitter: -1}))},
		{"every zero", "every", second(Every(0, nil))},
		{"every end", "end", second(Every(time.Hour, &IntervalOptions{Start: time.Unix(10, 0), End: time.Unix(5, 0)}))},
		{"every jitter", "jitter", second(Every(time.Hour, &IntervalOptions{Jitter: -time.Second}))},
		{"at zero", "at", second(At(time.Time{}, nil))},
		{"at jitter", "jitter", second(At(time.Unix(1, 0), &DateOptions{Jitter: -1}))},
		{"calendar too large", "days", second(Calendar(CalendarSpec{Days: 1 << 30, StartDate: "2024-01-01"}))},
		{"calendar missing day", "missing_day", second(Calendar(CalendarSpec{Days: 1, StartDate: "2024-01-01", MissingDay: 7}))},
		{"and one", "triggers", second(And([]Trigger{date}, nil))},
		{"or nil", "triggers[1]", second(Or([]Trigger{date, nil}, nil))},
		{"or jitter", "jitter", second(Or([]Trigger{date, date}, &CombineOptions{Jitter: -1}))},
	}
	for _, tt := range tests {
		var fe *FieldError
		if !errors.As(tt.err, &fe) || fe.Field != tt.field {
			t.Errorf("%s: got %v, want a *FieldError for %q", tt.name, tt.err, tt.field)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestMustPanics(t *testing.T) {
	for name, f := range map[string]func(){
		"MustCron":     func() { MustCron("x", nil) },
		"MustEvery":    func() { MustEvery(-1, nil) },
		"MustAt":       func() { MustAt(time.Time{}, nil) },
		"MustCalendar": func() { MustCalendar(CalendarSpec{}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s did not panic on bad input", name)
				}
			}()
			f()
		}()
	}
}
