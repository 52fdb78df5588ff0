package cron

import (
	"errors"
	"testing"
	"time"
)

var fuzzSeeds = []string{
	"* * * * *", "*/5 * * * *", "0 0 * * *", "30 2 * * 1-5", "0 0 29 2 *", "0 9-17 * * MON-FRI",
	"0 0 L * *", "15 10 * * 5#3", "0 0 1W * *", "0 0 LW * *", "0 0 * * 5L", "0 0 L-3 * *", "0 0 13 * FRI",
	"*/20 30 9 * * *", "0 0 0 1 1 * 2025", "0 0 0 29 2 ? 2024/4", "@daily", "@every 90s", "@every 0s",
	"0 0 30 2 *", "61 * * * *", "1,,2 * * * *", "* * * * * * * *", "", "@", "L-", "#", "5/", "/5",
	"0 0 ? * ?", "1-2-3 * * * *", "0 0 31W 2 *", "30 1 * * *", "0,30 2 * * *",
}

// FuzzParse checks that Parse never panics, that its errors are
// *ParseError, and that what it accepts evaluates.
func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		s, err := Parse(expr, nil)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T is not a *ParseError", expr, err)
			}
			return
		}
		again, err := Parse(s.String(), nil)
		if err != nil || again.String() != s.String() {
			t.Fatalf("String %q does not parse back: %v", s.String(), err)
		}
		_ = s.Explain()
		s.Next(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	})
}

var fuzzZones = []string{"UTC", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata"}

// FuzzNext checks, for any parseable expression, instant, zone and policy:
// Next(t) is after t and is a fire (walking back with Prev finds no fire in
// between, and Next of that Prev is Next again).
func FuzzNext(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, int64(1700000000+i*86400*37), uint8(i))
	}
	f.Add("30 2 * * *", int64(1710050000), uint8(1))
	f.Add("30 1 * * *", int64(1730605000), uint8(1+5*1))
	f.Add("*/15 * * * *", int64(1730609000), uint8(1))
	f.Add("15 2 * * *", int64(1728138000), uint8(3))
	locs := make([]*time.Location, len(fuzzZones))
	for i, z := range fuzzZones {
		locs[i] = mustLoad(f, z)
	}
	f.Fuzz(func(t *testing.T, expr string, unix int64, knobs uint8) {
		loc := locs[int(knobs)%len(locs)]
		opts := &Options{Location: loc, Gap: GapPolicy(knobs / 5 % 2), Overlap: OverlapPolicy(knobs / 10 % 3), DayRule: DayRule(knobs / 30 % 2)}
		s, err := Parse(expr, opts)
		if err != nil || s.every > 0 {
			return
		}
		from := time.Unix(unix%(200*365*86400), 0) // 1970 to 2170, either side of the zone table's end
		if from.Year() < 1971 {
			from = from.AddDate(2000, 0, 0)
		}
		checkNext(t, s, from)
	})
}

func checkNext(t *testing.T, s *Schedule, from time.Time) {
	n := s.Next(from)
	if n.IsZero() {
		if p := s.Prev(from.Add(time.Second)); p.After(from) {
			t.Fatalf("%q: Next(%s) is none but Prev finds %s", s, from, p)
		}
		return
	}
	if !n.After(from) {
		t.Fatalf("%q: Next(%s) = %s, not after", s, from, n)
	}
	if n.Location() != s.Location() {
		t.Fatalf("%q: Next returned a time in %s", s, n.Location())
	}
	p := s.Prev(n)
	if !p.IsZero() && p.After(from) {
		t.Fatalf("%q: a fire %s lies between %s and Next %s", s, p, from, n)
	}
	if !p.IsZero() && !s.Next(p).Equal(n) {
		t.Fatalf("%q: Next(Prev(%s)) = %s", s, n, s.Next(p))
	}
	if p := s.Prev(n.Add(time.Second)); !p.Equal(n) {
		t.Fatalf("%q: Prev(%s + 1s) = %s, want the fire itself", s, n, p)
	}
}
