package cron

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// refDay decides whether a date matches the day fields, written plainly
// with the time package, to cross-check dayMask's bit arithmetic.
func refDay(s *Schedule, y, m, d int) bool {
	date := time.Date(y, time.Month(m), d, 12, 0, 0, 0, time.UTC)
	last := time.Date(y, time.Month(m)+1, 0, 12, 0, 0, 0, time.UTC).Day()
	wd := int(date.Weekday())
	dom := s.dom&(1<<d) != 0 || (d <= last && s.lastOff&(1<<(last-d)) != 0)
	for n := 1; n <= 31; n++ {
		if s.nearW&(1<<n) != 0 && n <= last && refNearest(y, m, n, last) == d {
			dom = true
		}
	}
	if s.lastW && refNearest(y, m, last, last) == d {
		dom = true
	}
	dow := s.dow&(1<<wd) != 0 || (s.dowLast&(1<<wd) != 0 && d+7 > last) ||
		s.dowNth[wd]&(1<<((d-1)/7+1)) != 0
	// Vixie: a field starting with "*" (or "?") turns the rule to AND, its
	// own values (a step, say) still apply.
	if !s.domStar && !s.dowStar && s.opts.DayRule == DayOr {
		return dom || dow
	}
	return dom && dow
}

func refNearest(y, m, n, last int) int {
	switch time.Date(y, time.Month(m), n, 12, 0, 0, 0, time.UTC).Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == last {
			return n - 2
		}
		return n + 1
	}
	return n
}

// refNext steps day by day, then hour, minute and second, for a zone
// without DST changes; horizon bounds the days searched.
func refNext(s *Schedule, t time.Time, horizon int) (time.Time, bool) {
	loc := s.Location()
	t = t.In(loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
	for i := 0; i < horizon; i++ {
		y, m, d := day.Date()
		if s.yearOK(y) && s.month&(1<<int(m)) != 0 && refDay(s, y, int(m), d) {
			if f, ok := refInDay(s, day, t); ok {
				return f, true
			}
		}
		day = day.AddDate(0, 0, 1)
	}
	return time.Time{}, false
}

func refInDay(s *Schedule, day, after time.Time) (time.Time, bool) {
	for h := 0; h < 24; h++ {
		if s.hour&(1<<h) == 0 {
			continue
		}
		for mi := 0; mi < 60; mi++ {
			if s.min&(1<<mi) == 0 {
				continue
			}
			for sc := 0; sc < 60; sc++ {
				f := day.Add(time.Duration(h*3600+mi*60+sc) * time.Second)
				if s.sec&(1<<sc) != 0 && f.After(after) {
					return f, true
				}
			}
		}
	}
	return time.Time{}, false
}

// randomExpr builds a random valid-looking expression.
func randomExpr(r *rand.Rand) string {
	field := func(lo, hi int) string {
		a := lo + r.IntN(hi-lo+1)
		b := a + r.IntN(hi-a+1)
		switch r.IntN(7) {
		case 0, 1:
			return "*"
		case 2:
			return "*/" + strconv.Itoa(1+r.IntN(hi-lo+1))
		case 3:
			return strconv.Itoa(a)
		case 4:
			return strconv.Itoa(a) + "-" + strconv.Itoa(b)
		case 5:
			return strconv.Itoa(a) + "," + strconv.Itoa(b)
		}
		return strconv.Itoa(a) + "-" + strconv.Itoa(b) + "/" + strconv.Itoa(1+r.IntN(5))
	}
	dom := field(1, 31)
	switch r.IntN(12) {
	case 0:
		dom = "L"
	case 1:
		dom = "L-" + strconv.Itoa(r.IntN(5))
	case 2:
		dom = strconv.Itoa(1+r.IntN(31)) + "W"
	case 3:
		dom = "LW"
	case 4:
		dom = "?"
	}
	dow := field(0, 7)
	switch r.IntN(10) {
	case 0:
		dow = strconv.Itoa(r.IntN(7)) + "L"
	case 1:
		dow = strconv.Itoa(r.IntN(7)) + "#" + strconv.Itoa(1+r.IntN(5))
	case 2:
		dow = "?"
	}
	expr := field(0, 59) + " " + field(0, 23) + " " + dom + " " + field(1, 12) + " " + dow
	if r.IntN(3) == 0 {
		expr = field(0, 59) + " " + expr
	}
	return expr
}

// TestNextMatchesReference compares Next and Prev with the plain
// evaluator on random expressions, instants and day rules, in zones without
// daylight saving.
func TestNextMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, time.FixedZone("X", -7*3600-1800), mustLoad(t, "Asia/Kolkata")}
	base := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	runs, checked := 3000, 0
	if testing.Short() {
		runs = 300
	}
	for i := 0; i < runs; i++ {
		expr := randomExpr(r)
		opts := &Options{Location: zones[r.IntN(len(zones))], DayRule: DayRule(r.IntN(2))}
		s, err := Parse(expr, opts)
		if err != nil {
			continue // the generator makes some that never fire
		}
		from := time.Unix(base+r.Int64N(3*365*86400), int64(r.IntN(2))*5e8)
		want, ok := refNext(s, from, 800)
		got := s.Next(from)
		if !ok {
			if !got.IsZero() && got.Sub(from) < 799*24*time.Hour {
				t.Errorf("%q (%v) Next(%s) = %s, reference found none", expr, opts.DayRule, from, got)
			}
			continue
		}
		checked++
		if !got.Equal(want) {
			t.Errorf("%q in %s (%v): Next(%s) = %s, want %s", expr, opts.Location, opts.DayRule, from, got, want)
			continue
		}
		if p := s.Prev(got); !p.IsZero() && !p.Before(from.Add(time.Nanosecond)) && p.After(from) {
			t.Errorf("%q: Prev(Next(%s)) = %s is after %s", expr, from, p, from)
		}
		if p := s.Prev(got); !p.IsZero() && !s.Next(p).Equal(got) {
			t.Errorf("%q: Next(Prev(%s)) = %s", expr, got, s.Next(p))
		}
	}
	t.Logf("checked %d of %d", checked, runs)
	if checked < runs/3 {
		t.Fatalf("only %d of %d random expressions were checked", checked, runs)
	}
}

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// TestJumpChangesNothing compares the zoned search with and without its
// jump over whole zone periods, on random expressions (sparse ones
// included), DST zones, policies and instants.
func TestJumpChangesNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	zones := []*time.Location{mustLoad(t, "America/New_York"), mustLoad(t, "Europe/London"), mustLoad(t, "Australia/Lord_Howe")}
	sparse := []string{"0 0 29 2 *", "30 1 3 11 *", "30 2 10 3 *", "0 0 1 1 *", "0 0 * * 5#5", "15 2 6 10 *", "0 0 0 1 1 * 2150"}
	for i := 0; i < 1500; i++ {
		expr := randomExpr(r)
		if i%3 == 0 {
			expr = sparse[r.IntN(len(sparse))]
		}
		opts := &Options{Location: zones[r.IntN(len(zones))], Gap: GapPolicy(r.IntN(2)),
			Overlap: OverlapPolicy(r.IntN(3)), DayRule: DayRule(r.IntN(2))}
		s, err := Parse(expr, opts)
		if err != nil {
			continue
		}
		from := time.Unix(r.Int64N(180*365*86400)+20*365*86400, 0)
		jumps = true
		n1, p1 := s.Next(from), s.Prev(from)
		jumps = false
		n2, p2 := s.Next(from), s.Prev(from)
		jumps = true
		if !n1.Equal(n2) || !p1.Equal(p2) {
			t.Fatalf("%q %+v from %s: with jumps Next %s Prev %s, without %s %s", expr, *opts, from, n1, p1, n2, p2)
		}
	}
}
