package cron

import (
	"testing"
	"time"
)

// TestCivilDays checks the integer date arithmetic against the time
// package over ±2,000 years, and the weekday and month-length helpers.
func TestCivilDays(t *testing.T) {
	for z := int64(-800000); z < 800000; z += 37 {
		y, m, d := civilFromDays(z)
		if back := daysFromCivil(y, m, d); back != z {
			t.Fatalf("day %d -> %d-%d-%d -> %d", z, y, m, d, back)
		}
		want := time.Unix(z*86400, 0).UTC()
		if want.Year() != y || int(want.Month()) != m || want.Day() != d {
			t.Fatalf("day %d = %d-%d-%d, the time package says %s", z, y, m, d, want)
		}
		if w := weekday(z); w != int(want.Weekday()) {
			t.Fatalf("weekday(%d) = %d, want %d", z, w, want.Weekday())
		}
		if n := daysIn(y, m); n != time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
			t.Fatalf("daysIn(%d, %d) = %d", y, m, n)
		}
	}
}
