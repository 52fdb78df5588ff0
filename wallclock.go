package sundial

import "time"

// wallInstant returns the instant at which the wall clock in loc reads the
// given date and time. When the clocks go back and the reading happens
// twice, it returns the first occurrence; when a spring-forward gap skips
// the reading, it returns the first instant after the gap. (time.Date leaves
// both cases unspecified.)
func wallInstant(y int, mo time.Month, d, h, mi, s int, loc *time.Location) time.Time {
	t := time.Date(y, mo, d, h, mi, s, 0, loc)
	if loc == time.UTC {
		return t
	}
	wall := time.Date(y, mo, d, h, mi, s, 0, time.UTC)
	start, end := t.ZoneBounds()
	var best time.Time
	try := func(probe time.Time) {
		_, off := probe.Zone()
		u := wall.Add(-time.Duration(off) * time.Second).In(loc)
		if _, got := u.Zone(); got == off && (best.IsZero() || u.Before(best)) {
			best = u
		}
	}
	try(t)
	if !start.IsZero() {
		try(start.Add(-time.Nanosecond))
	}
	if !end.IsZero() {
		try(end)
	}
	if !best.IsZero() {
		return best
	}
	// The reading falls in a gap. time.Date put t on one side of the
	// transition; the transition itself is the first instant after the gap.
	if readsAfter(t, wall) {
		return start
	}
	return end
}

// readsAfter reports whether t's wall clock reads later than wall (a wall
// reading expressed in UTC).
func readsAfter(t, wall time.Time) bool {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC).After(wall)
}
