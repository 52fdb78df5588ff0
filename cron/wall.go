package cron

import "math/bits"

// A wall time is a reading of the clock in the schedule's zone, counted as
// seconds since 1970-01-01 00:00:00 as if that zone were UTC. The searches
// here run on wall times; next.go turns them into instants.

var (
	minWall = daysFromCivil(1, 1, 1) * 86400
	maxWall = daysFromCivil(10000, 1, 1)*86400 - 1
)

// splitWall returns the day number and the second of the day of a wall time.
func splitWall(w int64) (day int64, sod int) {
	day = w / 86400
	if w < 0 && w%86400 != 0 {
		day--
	}
	return day, int(w - day*86400)
}

// nextBit returns the lowest set bit of mask at or above from, or -1.
func nextBit(mask uint64, from int) int {
	if from >= 64 {
		return -1
	}
	if m := mask >> from << from; m != 0 {
		return bits.TrailingZeros64(m)
	}
	return -1
}

// prevBit returns the highest set bit of mask at or below upto, or -1.
func prevBit(mask uint64, upto int) int {
	if upto < 0 {
		return -1
	}
	if m := mask & (^uint64(0) >> (63 - upto)); m != 0 {
		return 63 - bits.LeadingZeros64(m)
	}
	return -1
}

// timeAfter returns the first matching second of the day at or after sod,
// or -1 when the rest of the day has none.
func (s *Schedule) timeAfter(sod int) int {
	h, mi, sc := sod/3600, sod/60%60, sod%60
	if s.hour&(1<<h) != 0 {
		if s.min&(1<<mi) != 0 {
			if n := nextBit(s.sec, sc); n >= 0 {
				return h*3600 + mi*60 + n
			}
		}
		if n := nextBit(s.min, mi+1); n >= 0 {
			return h*3600 + n*60 + s.firstSec
		}
	}
	if n := nextBit(s.hour, h+1); n >= 0 {
		return n*3600 + s.firstMin*60 + s.firstSec
	}
	return -1
}

// timeBefore returns the last matching second of the day at or before sod,
// or -1 when the day has none up to there.
func (s *Schedule) timeBefore(sod int) int {
	h, mi, sc := sod/3600, sod/60%60, sod%60
	if s.hour&(1<<h) != 0 {
		if s.min&(1<<mi) != 0 {
			if n := prevBit(s.sec, sc); n >= 0 {
				return h*3600 + mi*60 + n
			}
		}
		if n := prevBit(s.min, mi-1); n >= 0 {
			return h*3600 + n*60 + s.lastSec
		}
	}
	if n := prevBit(s.hour, h-1); n >= 0 {
		return n*3600 + s.lastMin*60 + s.lastSec
	}
	return -1
}

// nextWall returns the first wall time at or after w and at or before hi
// that matches every field.
func (s *Schedule) nextWall(w, hi int64) (int64, bool) {
	if w > hi {
		return 0, false
	}
	day, sod := splitWall(w)
	y, m, d := civilFromDays(day)
	first := day - int64(d-1) // day number of the month's first day
	if s.yearOK(y) && s.month&(1<<m) != 0 {
		mask := s.dayMask(y, m, first)
		if mask&(1<<d) != 0 {
			if t := s.timeAfter(sod); t >= 0 {
				return within(day*86400+int64(t), hi)
			}
		}
		if nd := nextBit(mask, d+1); nd >= 0 {
			return within((first+int64(nd-1))*86400+int64(s.firstTime), hi)
		}
	}
	for {
		if first += int64(daysIn(y, m)); m == 12 {
			y, m = y+1, 1
		} else {
			m++
		}
		if first*86400 > hi {
			return 0, false
		}
		if !s.yearOK(y) || s.month&(1<<m) == 0 {
			var ok bool
			if y, m, ok = s.nextMonthOf(y, m); !ok {
				return 0, false
			}
			first = daysFromCivil(y, m, 1)
			continue
		}
		if mask := s.dayMask(y, m, first); mask != 0 {
			nd := int64(bits.TrailingZeros64(mask))
			return within((first+nd-1)*86400+int64(s.firstTime), hi)
		}
	}
}

// nextMonthOf returns the first month at or after (y, m) that the year and
// month fields allow; the caller then steps past it if it has no day. The
// month returned is the one before it, so the loop's step lands on it.
func (s *Schedule) nextMonthOf(y, m int) (int, int, bool) {
	for !s.yearOK(y) || s.month&(1<<m) == 0 {
		if !s.yearOK(y) {
			if y = s.nextYear(y); y < 0 {
				return 0, 0, false
			}
			m = 1
		}
		if n := nextBit(s.month, m); n >= 0 {
			m = n
		} else if y = s.nextYear(y); y < 0 {
			return 0, 0, false
		} else {
			m = 1
		}
	}
	// Step back one month: the caller's loop steps forward first.
	if m == 1 {
		return y - 1, 12, true
	}
	return y, m - 1, true
}

func within(w, hi int64) (int64, bool) { return w, w <= hi }

func atLeast(w, lo int64) (int64, bool) { return w, w >= lo }

// prevWall returns the last wall time at or before w and at or after lo
// that matches every field.
func (s *Schedule) prevWall(w, lo int64) (int64, bool) {
	if w < lo {
		return 0, false
	}
	day, sod := splitWall(w)
	y, m, d := civilFromDays(day)
	first := day - int64(d-1)
	if s.yearOK(y) && s.month&(1<<m) != 0 {
		mask := s.dayMask(y, m, first)
		if mask&(1<<d) != 0 {
			if t := s.timeBefore(sod); t >= 0 {
				return atLeast(day*86400+int64(t), lo)
			}
		}
		if pd := prevBit(mask, d-1); pd >= 1 {
			return atLeast((first+int64(pd-1))*86400+int64(s.lastTime), lo)
		}
	}
	for {
		if m == 1 {
			y, m = y-1, 12
		} else {
			m--
		}
		first -= int64(daysIn(y, m))
		if (first+int64(daysIn(y, m)))*86400 <= lo {
			return 0, false
		}
		if !s.yearOK(y) || s.month&(1<<m) == 0 {
			var ok bool
			if y, m, ok = s.prevMonthOf(y, m); !ok {
				return 0, false
			}
			first = daysFromCivil(y, m, 1) // the loop steps back onto the month before
			continue
		}
		if mask := s.dayMask(y, m, first); mask != 0 {
			pd := int64(63 - bits.LeadingZeros64(mask))
			return atLeast((first+pd-1)*86400+int64(s.lastTime), lo)
		}
	}
}

// prevMonthOf returns the month after the last month at or before (y, m)
// that the year and month fields allow, so the caller's step back lands on
// it.
func (s *Schedule) prevMonthOf(y, m int) (int, int, bool) {
	for !s.yearOK(y) || s.month&(1<<m) == 0 {
		if !s.yearOK(y) {
			if y = s.prevYear(y); y < 0 {
				return 0, 0, false
			}
			m = 12
		}
		if p := prevBit(s.month, m); p >= 1 {
			m = p
		} else if y = s.prevYear(y); y < 0 {
			return 0, 0, false
		} else {
			m = 12
		}
	}
	if m == 12 {
		return y + 1, 1, true
	}
	return y, m + 1, true
}

// nextYear returns the first year after y the year field allows, or -1.
func (s *Schedule) nextYear(y int) int {
	for y = max(y+1, s.yearLo); y <= s.yearHi; y++ {
		if s.yearOK(y) {
			return y
		}
	}
	return -1
}

// prevYear returns the last year before y the year field allows, or -1.
func (s *Schedule) prevYear(y int) int {
	for y = min(y-1, s.yearHi); y >= s.yearLo; y-- {
		if s.yearOK(y) {
			return y
		}
	}
	return -1
}
