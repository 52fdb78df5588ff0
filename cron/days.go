package cron

import "math/bits"

// daysFromCivil returns the days from 1970-01-01 to the given proleptic
// Gregorian date (Howard Hinnant's algorithm), in integers only.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	doy := (153*((m+9)%12)+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// civilFromDays is the inverse of daysFromCivil.
func civilFromDays(z int64) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := int(z - era*146097)
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + int(era)*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// weekday returns the day of the week of day number z, Sunday = 0.
func weekday(z int64) int {
	w := (z + 4) % 7 // 1970-01-01 was a Thursday
	if w < 0 {
		w += 7
	}
	return int(w)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

func daysIn(y, m int) int {
	if m == 2 && isLeap(y) {
		return 29
	}
	return monthDays[m]
}

// dayMask returns the days of month m of year y that match the day fields,
// as bits 1-31.
// firstDay is the day number of the month's first day.
func (s *Schedule) dayMask(y, m int, firstDay int64) uint64 {
	n := daysIn(y, m)
	valid := uint64(1)<<(n+1) - 2
	first := weekday(firstDay)
	dom := s.dom & valid
	dow := uint64(s.dowPat[first]) & valid
	if s.special {
		dom |= s.domSpecials(n, first)
		dow |= s.dowSpecials(n, first)
	}
	if s.useOr {
		return dom | dow
	}
	return dom & dow
}

// domSpecials returns the days that L, L-n, nW and LW select in a month of
// n days whose first day is weekday first.
func (s *Schedule) domSpecials(n, first int) uint64 {
	var m uint64
	for off := s.lastOff; off != 0; off &= off - 1 {
		if d := n - bits.TrailingZeros64(off); d >= 1 {
			m |= 1 << d
		}
	}
	for w := s.nearW; w != 0; w &= w - 1 {
		if d := bits.TrailingZeros64(w); d <= n {
			m |= 1 << nearestWeekday(d, n, first)
		}
	}
	if s.lastW {
		m |= 1 << nearestWeekday(n, n, first)
	}
	return m
}

// nearestWeekday returns the Monday-Friday day nearest day d without leaving
// the month (Quartz's W): Saturday moves to Friday (or to Monday the 3rd
// when d is the 1st), Sunday to Monday (or to Friday when d is the last).
func nearestWeekday(d, n, first int) int {
	switch (first + d - 1) % 7 {
	case 6: // Saturday
		if d == 1 {
			return 3
		}
		return d - 1
	case 0: // Sunday
		if d == n {
			return d - 2
		}
		return d + 1
	}
	return d
}

// dowSpecials returns the days that nL and n#k select.
func (s *Schedule) dowSpecials(n, first int) uint64 {
	var m uint64
	lastW := (first + n - 1) % 7
	for w := range 7 {
		if s.dowLast&(1<<w) != 0 {
			m |= 1 << (n - (lastW-w+7)%7)
		}
		if k := s.dowNth[w]; k != 0 {
			d1 := 1 + (w-first+7)%7
			for ; k != 0; k &= k - 1 {
				if d := d1 + 7*(bits.TrailingZeros8(k)-1); d <= n {
					m |= 1 << d
				}
			}
		}
	}
	return m
}

// checkFires refuses an expression that can never fire. Most expressions
// match the first month tried; the rest cost a scan of the years the year
// field allows, or of 2001-2028, which hold every calendar a month can have
// (each weekday for January 1, leap and common years).
func (s *Schedule) checkFires() *ParseError {
	lo, hi := 2001, 2028
	if s.hasYears {
		lo, hi = s.yearLo, s.yearHi
	}
	for y := lo; y <= hi; y++ {
		if !s.yearOK(y) {
			continue
		}
		for mm := s.month; mm != 0; mm &= mm - 1 {
			m := bits.TrailingZeros64(mm)
			if s.dayMask(y, m, daysFromCivil(y, m, 1)) != 0 {
				return nil
			}
		}
	}
	return &ParseError{Reason: "never fires: no date matches its day, month and year fields together"}
}
