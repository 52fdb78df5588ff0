package sundial

import (
	"encoding/json"
	"fmt"
	"time"
)

// MissingDay says what a [CalendarTrigger] does in a month that lacks the
// anchor's day (the 31st in April, the 29th of February in 2025).
type MissingDay uint8

const (
	// MissingDayClamp fires on the month's last day instead: "every month on
	// the 31st" fires on April 30 and February 28 (29 in leap years). The
	// next month counts from the anchor again, so May fires on the 31st.
	MissingDayClamp MissingDay = iota
	// MissingDaySkip does not fire that month (as APScheduler's calendar
	// interval trigger).
	MissingDaySkip
)

// String returns "clamp" or "skip".
func (m MissingDay) String() string {
	if m == MissingDaySkip {
		return "skip"
	}
	return "clamp"
}

// ParseMissingDay reads "clamp" or "skip"; "" means clamp.
func ParseMissingDay(s string) (MissingDay, error) {
	switch s {
	case "", "clamp":
		return MissingDayClamp, nil
	case "skip":
		return MissingDaySkip, nil
	}
	return 0, fmt.Errorf("unknown missing-day rule %q (want clamp or skip)", s)
}

// CalendarSpec describes a [CalendarTrigger]: every period of calendar time
// (years, months, weeks and days, added together), at one wall-clock time in
// a zone, counted from a start date.
type CalendarSpec struct {
	Years, Months, Weeks, Days int    // the period; none negative, at least one positive
	At                         string // wall-clock time of each fire, "15:04" or "15:04:05"; "" means 00:00
	StartDate                  string // first date, "2006-01-02"; the anchor of every later date
	EndDate                    string // last date a fire may have, "2006-01-02"; "" means no end
	TimeZone                   string // IANA zone; "" means UTC
	MissingDay                 MissingDay
	Jitter                     time.Duration
}

// CalendarTrigger fires every N years, months, weeks or days at a
// wall-clock time. Occurrence k falls on StartDate plus k periods, always
// counted from StartDate, so clamping one short month never shifts the
// next. A wall-clock time that a spring-forward gap skips fires at the
// first instant after the gap; one that happens twice fires at the first.
type CalendarTrigger struct {
	spec       CalendarSpec
	loc        *time.Location
	start, end int64 // days since the civil epoch; end < 0 means none
	sec        int   // seconds into the day of each fire
	months     int   // months per period
	days       int   // days per period, after the months
}

// Calendar returns a calendar trigger for spec. It fails with a *FieldError
// when the period is empty or negative ("years", "months", "weeks",
// "days"), At is not a time of day ("at"), a date is malformed or missing
// ("start_date", "end_date"), the zone is unknown ("timezone") or the
// jitter is negative ("jitter").
func Calendar(spec CalendarSpec) (*CalendarTrigger, error) {
	t := &CalendarTrigger{spec: spec, end: -1}
	if err := t.setPeriod(); err != nil {
		return nil, err
	}
	var err error
	if t.sec, err = parseClock(spec.At); err != nil {
		return nil, err
	}
	if t.start, err = parseDate("start_date", spec.StartDate, true); err != nil {
		return nil, err
	}
	if t.end, err = parseDate("end_date", spec.EndDate, false); err != nil {
		return nil, err
	}
	if spec.EndDate != "" && t.end < t.start {
		return nil, invalid("end_date", "%s is before start_date %s", spec.EndDate, spec.StartDate)
	}
	if t.loc, err = loadZone("timezone", spec.TimeZone); err != nil {
		return nil, err
	}
	if spec.MissingDay > MissingDaySkip {
		return nil, invalid("missing_day", "unknown rule %d", spec.MissingDay)
	}
	if err := checkJitter(spec.Jitter); err != nil {
		return nil, err
	}
	return t, nil
}

// MustCalendar is like Calendar but panics on error.
func MustCalendar(spec CalendarSpec) *CalendarTrigger {
	t, err := Calendar(spec)
	if err != nil {
		panic(err)
	}
	return t
}

func (t *CalendarTrigger) setPeriod() error {
	s := t.spec
	for _, f := range []struct {
		name string
		n    int
	}{{"years", s.Years}, {"months", s.Months}, {"weeks", s.Weeks}, {"days", s.Days}} {
		if f.n < 0 {
			return invalid(f.name, "%d is negative", f.n)
		}
		if f.n > 100000 {
			return invalid(f.name, "%d is too large (at most 100000)", f.n)
		}
	}
	t.months = s.Years*12 + s.Months
	t.days = s.Weeks*7 + s.Days
	if t.months == 0 && t.days == 0 {
		return invalid("months", "the period is empty: set years, months, weeks or days")
	}
	return nil
}

// Kind returns "calendar".
func (t *CalendarTrigger) Kind() string { return "calendar" }

// Spec returns the trigger's description.
func (t *CalendarTrigger) Spec() CalendarSpec { return t.spec }

// Jitter returns the upper bound of the random delay per fire.
func (t *CalendarTrigger) Jitter() time.Duration { return t.spec.Jitter }

// Next returns the first fire strictly after after, or the zero Time once
// past EndDate.
func (t *CalendarTrigger) Next(after time.Time) (time.Time, error) {
	for k := t.firstCandidate(after); ; k++ {
		day, ok := t.occurrence(k)
		if t.end >= 0 && day > t.end {
			return time.Time{}, nil
		}
		if !ok {
			continue
		}
		y, mo, d := civilFromDays(day)
		at := wallInstant(y, mo, d, t.sec/3600, t.sec/60%60, t.sec%60, t.loc)
		if at.After(after) {
			return at, nil
		}
	}
}

// firstCandidate returns an occurrence index at or before the first one
// after after: an estimate from the average period length, less a margin
// that covers month-length and daylight-saving differences.
func (t *CalendarTrigger) firstCandidate(after time.Time) int {
	y, mo, d := after.In(t.loc).Date()
	span := daysFromCivil(y, mo, d) - t.start
	if span <= 0 {
		return 0
	}
	avg := float64(t.months)*30.436875 + float64(t.days)
	k := int(float64(span)/avg) - 2
	return max(k, 0)
}

// occurrence returns the day number of occurrence k, and false when the
// MissingDay rule skips it.
func (t *CalendarTrigger) occurrence(k int) (int64, bool) {
	y, mo, d := civilFromDays(t.start)
	if t.months != 0 {
		m := int(mo) - 1 + k*t.months
		y += m / 12
		mo = time.Month(m%12 + 1)
		if last := daysIn(y, mo); d > last {
			if t.spec.MissingDay == MissingDaySkip {
				return daysFromCivil(y, mo, last), false
			}
			d = last
		}
	}
	return daysFromCivil(y, mo, d) + int64(k)*int64(t.days), true
}

type calendarJSON struct {
	Kind       string `json:"kind"`
	Years      int    `json:"years,omitempty"`
	Months     int    `json:"months,omitempty"`
	Weeks      int    `json:"weeks,omitempty"`
	Days       int    `json:"days,omitempty"`
	At         string `json:"at,omitempty"`
	StartDate  string `json:"start_date"`
	EndDate    string `json:"end_date,omitempty"`
	TimeZone   string `json:"timezone,omitempty"`
	MissingDay string `json:"missing_day,omitempty"`
	Jitter     string `json:"jitter,omitempty"`
}

// MarshalJSON writes {"kind":"calendar","months":2,"at":"09:00",...}.
func (t *CalendarTrigger) MarshalJSON() ([]byte, error) {
	s := t.spec
	w := calendarJSON{
		Kind: "calendar", Years: s.Years, Months: s.Months, Weeks: s.Weeks, Days: s.Days,
		At: s.At, StartDate: s.StartDate, EndDate: s.EndDate, TimeZone: zoneName(t.loc),
		Jitter: formatDuration(s.Jitter),
	}
	if s.MissingDay != MissingDayClamp {
		w.MissingDay = s.MissingDay.String()
	}
	return json.Marshal(w)
}

func decodeCalendar(data []byte) (Trigger, error) {
	var w calendarJSON
	if err := strictUnmarshal(data, &w); err != nil {
		return nil, err
	}
	spec := CalendarSpec{
		Years: w.Years, Months: w.Months, Weeks: w.Weeks, Days: w.Days,
		At: w.At, StartDate: w.StartDate, EndDate: w.EndDate, TimeZone: w.TimeZone,
	}
	var err error
	if spec.MissingDay, err = ParseMissingDay(w.MissingDay); err != nil {
		return nil, &FieldError{Field: "missing_day", Problem: err.Error()}
	}
	if spec.Jitter, err = parseDuration("jitter", w.Jitter); err != nil {
		return nil, err
	}
	return Calendar(spec)
}

// parseClock reads "15:04" or "15:04:05" as seconds into the day.
func parseClock(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	for _, layout := range []string{"15:04", "15:04:05"} {
		if c, err := time.Parse(layout, s); err == nil {
			return c.Hour()*3600 + c.Minute()*60 + c.Second(), nil
		}
	}
	return 0, invalid("at", "%q is not a time of day (want \"15:04\" or \"15:04:05\")", s)
}

// parseDate reads "2006-01-02" as a day number.
func parseDate(field, s string, required bool) (int64, error) {
	if s == "" {
		if required {
			return 0, invalid(field, "missing (want a date such as \"2024-01-31\")")
		}
		return -1, nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return 0, invalid(field, "%q is not a date (want \"2006-01-02\")", s)
	}
	return daysFromCivil(d.Date()), nil
}
