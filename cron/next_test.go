package cron

import (
	"strings"
	"testing"
	"time"
)

// fires lists the first n fires after from, formatted in the zone.
func fires(s *Schedule, from time.Time, n int) []string {
	var out []string
	for t := from; len(out) < n; {
		if t = s.Next(t); t.IsZero() {
			break
		}
		out = append(out, t.Format(time.RFC3339))
	}
	return out
}

// prevs lists the first n fires before from, newest first.
func prevs(s *Schedule, from time.Time, n int) []string {
	var out []string
	for t := from; len(out) < n; {
		if t = s.Prev(t); t.IsZero() {
			break
		}
		out = append(out, t.Format(time.RFC3339))
	}
	return out
}

type fireCase struct {
	name, expr, zone, from string
	opts                   Options
	want                   []string
}

func runFireCases(t *testing.T, cases []fireCase) {
	t.Helper()
	for _, c := range cases {
		opts := c.opts
		opts.Location = mustLoad(t, c.zone)
		s, err := Parse(c.expr, &opts)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		from, err := time.Parse(time.RFC3339, c.from)
		if err != nil {
			t.Fatal(err)
		}
		got := fires(s, from, len(c.want))
		if strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("%s: %q from %s\n got %v\nwant %v", c.name, c.expr, c.from, got, c.want)
		}
		// Walking back from the last fire must retrace the same fires.
		if len(got) == len(c.want) && len(got) > 1 {
			last, _ := time.Parse(time.RFC3339, got[len(got)-1])
			back := prevs(s, last, len(got)-1)
			for i, b := range back {
				if b != got[len(got)-2-i] {
					t.Errorf("%s: Prev walk %v disagrees with %v", c.name, back, got)
					break
				}
			}
		}
	}
}

func TestNextFeatures(t *testing.T) {
	runFireCases(t, []fireCase{
		{"every 5 minutes", "*/5 * * * *", "UTC", "2024-01-01T00:03:00Z", Options{},
			[]string{"2024-01-01T00:05:00Z", "2024-01-01T00:10:00Z"}},
		{"daily midnight across a year end", "0 0 * * *", "UTC", "2024-12-30T12:00:00Z", Options{},
			[]string{"2024-12-31T00:00:00Z", "2025-01-01T00:00:00Z"}},
		{"weekdays 02:30", "30 2 * * 1-5", "UTC", "2024-01-05T03:00:00Z", Options{},
			[]string{"2024-01-08T02:30:00Z", "2024-01-09T02:30:00Z"}},
		{"Feb 29 skips to the next leap year", "0 0 29 2 *", "UTC", "2024-03-01T00:00:00Z", Options{},
			[]string{"2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z"}},
		{"2100 is not a leap year", "0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z", Options{},
			[]string{"2104-02-29T00:00:00Z"}},
		{"hours 9-17 on weekdays", "0 9-17 * * MON-FRI", "UTC", "2024-01-05T16:30:00Z", Options{},
			[]string{"2024-01-05T17:00:00Z", "2024-01-08T09:00:00Z"}},
		{"last day, leap February", "0 0 L * *", "UTC", "2024-01-31T00:00:00Z", Options{},
			[]string{"2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z", "2024-04-30T00:00:00Z"}},
		{"last day, common February", "0 0 L 2 *", "UTC", "2024-03-01T00:00:00Z", Options{},
			[]string{"2025-02-28T00:00:00Z", "2026-02-28T00:00:00Z"}},
		{"L-2", "0 0 L-2 * *", "UTC", "2024-02-01T00:00:00Z", Options{},
			[]string{"2024-02-27T00:00:00Z", "2024-03-29T00:00:00Z"}},
		{"third Friday", "15 10 * * 5#3", "UTC", "2024-01-01T00:00:00Z", Options{},
			[]string{"2024-01-19T10:15:00Z", "2024-02-16T10:15:00Z", "2024-03-15T10:15:00Z"}},
		{"fifth Monday only where there is one", "0 0 * * MON#5", "UTC", "2024-01-01T00:00:00Z", Options{},
			[]string{"2024-01-29T00:00:00Z", "2024-04-29T00:00:00Z", "2024-07-29T00:00:00Z"}},
		{"last Friday", "0 0 * * 5L", "UTC", "2024-01-01T00:00:00Z", Options{},
			[]string{"2024-01-26T00:00:00Z", "2024-02-23T00:00:00Z"}},
		{"nearest weekday, Saturday the 1st moves to Monday the 3rd", "0 0 1W * *", "UTC", "2024-05-15T00:00:00Z", Options{},
			[]string{"2024-06-03T00:00:00Z", "2024-07-01T00:00:00Z"}},
		{"nearest weekday, Sunday the 15th moves to Monday", "0 0 15W * *", "UTC", "2024-09-01T00:00:00Z", Options{},
			[]string{"2024-09-16T00:00:00Z", "2024-10-15T00:00:00Z"}},
		{"nearest weekday, Sunday the 31st moves back to Friday", "0 0 31W * *", "UTC", "2024-03-01T00:00:00Z", Options{},
			[]string{"2024-03-29T00:00:00Z", "2024-05-31T00:00:00Z"}},
		{"last weekday", "0 0 LW * *", "UTC", "2024-03-01T00:00:00Z", Options{},
			[]string{"2024-03-29T00:00:00Z", "2024-04-30T00:00:00Z"}},
		{"Vixie OR", "0 0 13 * FRI", "UTC", "2024-09-01T00:00:00Z", Options{},
			[]string{"2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z", "2024-09-27T00:00:00Z", "2024-10-04T00:00:00Z", "2024-10-11T00:00:00Z", "2024-10-13T00:00:00Z"}},
		{"AND rule", "0 0 13 * FRI", "UTC", "2024-01-01T00:00:00Z", Options{DayRule: DayAnd},
			[]string{"2024-09-13T00:00:00Z", "2024-12-13T00:00:00Z", "2025-06-13T00:00:00Z"}},
		{"star day-of-month means AND", "0 0 */10 * MON", "UTC", "2024-01-01T00:00:00Z", Options{},
			[]string{"2024-03-11T00:00:00Z", "2024-04-01T00:00:00Z"}},
		{"7 is Sunday", "0 12 * * 7", "UTC", "2024-01-01T00:00:00Z", Options{},
			[]string{"2024-01-07T12:00:00Z"}},
		{"names in any case", "0 0 1 jan,Jul *", "UTC", "2024-02-01T00:00:00Z", Options{},
			[]string{"2024-07-01T00:00:00Z", "2025-01-01T00:00:00Z"}},
		{"6 fields with seconds", "*/20 30 9 * * *", "UTC", "2024-01-01T09:30:10Z", Options{},
			[]string{"2024-01-01T09:30:20Z", "2024-01-01T09:30:40Z", "2024-01-02T09:30:00Z"}},
		{"7 fields, exhausted year", "0 0 0 1 1 * 2025", "UTC", "2024-06-01T00:00:00Z", Options{},
			[]string{"2025-01-01T00:00:00Z"}},
		{"7 fields, year list", "0 0 0 1 1 ? 2025,2030/5", "UTC", "2024-06-01T00:00:00Z", Options{},
			[]string{"2025-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "2035-01-01T00:00:00Z"}},
		{"step from a value", "0 5/10 * * *", "UTC", "2024-01-01T00:00:00Z", Options{},
			[]string{"2024-01-01T05:00:00Z", "2024-01-01T15:00:00Z", "2024-01-02T05:00:00Z"}},
		{"month end of a 30-day month", "0 0 31 * *", "UTC", "2024-04-01T00:00:00Z", Options{},
			[]string{"2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z"}},
		{"@yearly", "@yearly", "UTC", "2024-06-01T00:00:00Z", Options{}, []string{"2025-01-01T00:00:00Z"}},
		{"@weekly", "@weekly", "UTC", "2024-01-01T00:00:00Z", Options{}, []string{"2024-01-07T00:00:00Z"}},
		{"@hourly", "@hourly", "UTC", "2024-01-01T00:00:00Z", Options{}, []string{"2024-01-01T01:00:00Z"}},
		{"@every", "@every 90m", "UTC", "2024-01-01T00:00:00Z", Options{},
			[]string{"2024-01-01T01:30:00Z", "2024-01-01T03:00:00Z"}},
	})
}

func TestNextDST(t *testing.T) {
	first, last, both := Options{}, Options{Overlap: OverlapLast}, Options{Overlap: OverlapBoth}
	skip := Options{Gap: GapSkip}
	runFireCases(t, []fireCase{
		// America/New_York: 2024-03-10 02:00 -> 03:00; 2024-11-03 02:00 -> 01:00.
		{"NY gap shift", "30 2 * * *", "America/New_York", "2024-03-09T00:00:00-05:00", first,
			[]string{"2024-03-09T02:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00"}},
		{"NY gap skip", "30 2 * * *", "America/New_York", "2024-03-09T00:00:00-05:00", skip,
			[]string{"2024-03-09T02:30:00-05:00", "2024-03-11T02:30:00-04:00"}},
		{"NY gap, two times collapse into one", "0,30 2 * * *", "America/New_York", "2024-03-10T00:00:00-05:00", first,
			[]string{"2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"}},
		{"NY gap, shifted fire meets a 03:00 fire", "0 2,3 * * *", "America/New_York", "2024-03-10T00:00:00-05:00", first,
			[]string{"2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00"}},
		{"NY gap, 6 fields", "15 30 2 * * *", "America/New_York", "2024-03-10T00:00:00-05:00", first,
			[]string{"2024-03-10T03:00:00-04:00", "2024-03-11T02:30:15-04:00"}},
		{"NY gap, wildcard runs by absolute time", "*/30 * * * *", "America/New_York", "2024-03-10T01:00:00-05:00", first,
			[]string{"2024-03-10T01:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:30:00-04:00"}},
		{"NY gap, stepped hours skip the gap", "0 */2 * * *", "America/New_York", "2024-03-10T00:00:00-05:00", first,
			[]string{"2024-03-10T04:00:00-04:00", "2024-03-10T06:00:00-04:00"}},
		{"NY overlap first", "30 1 * * *", "America/New_York", "2024-11-02T12:00:00-04:00", first,
			[]string{"2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"}},
		{"NY overlap last", "30 1 * * *", "America/New_York", "2024-11-02T12:00:00-04:00", last,
			[]string{"2024-11-03T01:30:00-05:00", "2024-11-04T01:30:00-05:00"}},
		{"NY overlap both", "30 1 * * *", "America/New_York", "2024-11-02T12:00:00-04:00", both,
			[]string{"2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00", "2024-11-04T01:30:00-05:00"}},
		{"NY overlap, wildcard fires in both", "*/30 * * * *", "America/New_York", "2024-11-03T00:45:00-04:00", first,
			[]string{"2024-11-03T01:00:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T01:30:00-05:00", "2024-11-03T02:00:00-05:00"}},
		{"NY overlap, hourly fires in both", "0 * * * *", "America/New_York", "2024-11-03T00:30:00-04:00", first,
			[]string{"2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T02:00:00-05:00"}},
		// Europe/London: 2024-03-31 01:00 -> 02:00; 2024-10-27 02:00 -> 01:00.
		{"London gap", "30 1 * * *", "Europe/London", "2024-03-30T12:00:00Z", first,
			[]string{"2024-03-31T02:00:00+01:00", "2024-04-01T01:30:00+01:00"}},
		{"London overlap first", "30 1 * * *", "Europe/London", "2024-10-26T12:00:00+01:00", first,
			[]string{"2024-10-27T01:30:00+01:00", "2024-10-28T01:30:00Z"}},
		{"London overlap last", "30 1 * * *", "Europe/London", "2024-10-26T12:00:00+01:00", last,
			[]string{"2024-10-27T01:30:00Z", "2024-10-28T01:30:00Z"}},
		// Australia/Lord_Howe: 30-minute changes. 2024-10-06 02:00 -> 02:30;
		// 2024-04-07 02:00 -> 01:30.
		{"Lord Howe gap", "15 2 * * *", "Australia/Lord_Howe", "2024-10-05T00:00:00+10:30", first,
			[]string{"2024-10-05T02:15:00+10:30", "2024-10-06T02:30:00+11:00", "2024-10-07T02:15:00+11:00"}},
		{"Lord Howe gap skip", "15 2 * * *", "Australia/Lord_Howe", "2024-10-05T00:00:00+10:30", skip,
			[]string{"2024-10-05T02:15:00+10:30", "2024-10-07T02:15:00+11:00"}},
		{"Lord Howe overlap first", "45 1 * * *", "Australia/Lord_Howe", "2024-04-06T12:00:00+11:00", first,
			[]string{"2024-04-07T01:45:00+11:00", "2024-04-08T01:45:00+10:30"}},
		{"Lord Howe overlap both", "45 1 * * *", "Australia/Lord_Howe", "2024-04-06T12:00:00+11:00", both,
			[]string{"2024-04-07T01:45:00+11:00", "2024-04-07T01:45:00+10:30", "2024-04-08T01:45:00+10:30"}},
		{"Lord Howe overlap, wildcard", "*/20 1 * * *", "Australia/Lord_Howe", "2024-04-07T01:10:00+11:00", first,
			[]string{"2024-04-07T01:20:00+11:00", "2024-04-07T01:40:00+11:00", "2024-04-07T01:40:00+10:30", "2024-04-08T01:00:00+10:30"}},
		// Both day rules on DST days: 2024-03-10 and 2024-11-03 are Sundays.
		{"NY gap, OR rule", "30 2 10 * SUN", "America/New_York", "2024-03-09T00:00:00-05:00", first,
			[]string{"2024-03-10T03:00:00-04:00", "2024-03-17T02:30:00-04:00"}},
		{"NY gap, AND rule", "30 2 10 * SUN", "America/New_York", "2024-03-09T00:00:00-05:00", Options{DayRule: DayAnd},
			[]string{"2024-03-10T03:00:00-04:00", "2024-11-10T02:30:00-05:00"}},
		{"NY overlap both, AND rule", "30 1 3 11 SUN", "America/New_York", "2024-11-01T00:00:00-04:00", Options{Overlap: OverlapBoth, DayRule: DayAnd},
			[]string{"2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00", "2030-11-03T01:30:00-04:00", "2030-11-03T01:30:00-05:00"}},
		{"NY overlap last, OR rule", "30 1 3 11 SUN", "America/New_York", "2024-11-01T00:00:00-04:00", Options{Overlap: OverlapLast},
			[]string{"2024-11-03T01:30:00-05:00", "2024-11-10T01:30:00-05:00"}},
		{"no DST in Seoul", "0 9 * * *", "Asia/Seoul", "2024-03-10T00:00:00+09:00", first,
			[]string{"2024-03-10T09:00:00+09:00", "2024-03-11T09:00:00+09:00"}},
		{"New York year boundary", "0 0 1 1 *", "America/New_York", "2024-06-01T00:00:00-04:00", first,
			[]string{"2025-01-01T00:00:00-05:00", "2026-01-01T00:00:00-05:00"}},
		{"leap-year end past the zone database's listed years (time.ZoneBounds quirk)", "0 0 1 1 *", "America/New_York", "2040-06-01T00:00:00-04:00", first,
			[]string{"2041-01-01T00:00:00-05:00", "2042-01-01T00:00:00-05:00"}},
		{"far future, past the zone database's listed years", "0 12 1 7 *", "America/New_York", "2300-01-01T00:00:00-05:00", first,
			[]string{"2300-07-01T12:00:00-04:00", "2301-07-01T12:00:00-04:00"}},
	})
}

func TestPrevBasics(t *testing.T) {
	s := MustParse("0 0 0 1 1 * 2024", nil)
	if got := s.Prev(time.Date(2024, 1, 1, 0, 0, 0, 1, time.UTC)); !got.Equal(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("Prev just after a fire = %s", got)
	}
	if got := s.Prev(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); !got.IsZero() {
		t.Errorf("Prev at the only fire = %s, want none (strictly before)", got)
	}
	if got := s.Next(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)); !got.IsZero() {
		t.Errorf("Next at the only fire = %s, want none", got)
	}
	e := MustParse("@every 1h", nil)
	at := time.Date(2024, 1, 1, 10, 20, 0, 0, time.UTC)
	if e.Prev(at) != at.Add(-time.Hour) || e.Next(at) != at.Add(time.Hour) {
		t.Error("@every: Next and Prev are t±d")
	}
}

func TestNextAllocatesNothing(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	for _, expr := range []string{"*/5 * * * *", "0 0 L * *", "15 10 * * 5#3", "30 2 * * *", "30 1 * * *"} {
		for _, loc := range []*time.Location{time.UTC, ny} {
			s := MustParse(expr, &Options{Location: loc, Overlap: OverlapLast})
			from := time.Date(2024, 3, 9, 0, 0, 0, 0, loc)
			if n := testing.AllocsPerRun(100, func() { s.Prev(s.Next(from)) }); n != 0 {
				t.Errorf("%q in %s: %v allocations per Next+Prev, want 0", expr, loc, n)
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := MustParse("*/7 * * * *", &Options{Location: mustLoad(t, "Europe/Paris")})
	done := make(chan time.Time)
	for i := range 4 {
		go func() {
			t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour)
			for range 1000 {
				t0 = s.Next(t0)
			}
			done <- t0
		}()
	}
	for range 4 {
		if (<-done).IsZero() {
			t.Error("a concurrent search ran out")
		}
	}
}
