package cron

import "time"

// jumpMargin keeps a jump over zone periods clear of the period that holds
// the next fire: more than any offset change.
const jumpMargin = 2 * 86400

// jumps enables the jump; tests turn it off to check it changes nothing.
var jumps = true

// maxPeriods bounds the zone periods (spans between offset changes) one
// search crosses: far more than the years a valid expression can wait.
const maxPeriods = 4096

// Next returns the first fire strictly after t, in the schedule's zone, or
// the zero Time when there is none (the year field is exhausted). It
// allocates nothing.
func (s *Schedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(s.every).In(s.opts.Location)
	}
	u := t.Unix() + 1 // fires fall on whole seconds
	if s.utc {
		if w, ok := s.nextWall(u, maxWall); ok {
			return time.Unix(w, 0).UTC()
		}
		return time.Time{}
	}
	return s.nextZoned(u)
}

// Prev returns the last fire strictly before t, in the schedule's zone, or
// the zero Time when there is none. Next and Prev walk the same set of
// fires.
func (s *Schedule) Prev(t time.Time) time.Time {
	if s.every > 0 {
		return t.Add(-s.every).In(s.opts.Location)
	}
	u := t.Unix()
	if t.Nanosecond() == 0 {
		u--
	}
	if s.utc {
		if w, ok := s.prevWall(u, minWall); ok {
			return time.Unix(w, 0).UTC()
		}
		return time.Time{}
	}
	return s.prevZoned(u)
}

// nextZoned searches zone period by zone period, since wall time runs
// monotonically only within one: the first fire at or after instant u.
// The wall search runs once, ahead of the periods: W is the first match at
// or after frontier, the highest wall reading searched so far. A period that
// begins with a fall-back repeats readings below the frontier; only those
// are searched again.
func (s *Schedule) nextZoned(u int64) time.Time {
	start, end, off := s.period(u)
	frontier := u + int64(off)
	w, found := s.nextWall(frontier, maxWall)
	for range maxPeriods {
		lo, hi := u+int64(off), maxWall
		if end != noEnd {
			hi = end + int64(off) - 1
		}
		if lo < frontier { // readings this period repeats
			limit := min(frontier-1, hi)
			for r, ok := s.nextWall(lo, limit); ok; r, ok = s.nextWall(r+1, limit) {
				if inst := r - int64(off); !s.repeated(inst, off, start, end) {
					return time.Unix(inst, 0).In(s.opts.Location)
				}
			}
		}
		if found && w < lo { // w fell in a gap before this period
			w, found = s.nextWall(lo, maxWall)
		}
		for ; found && w <= hi; w, found = s.nextWall(w+1, maxWall) {
			if inst := w - int64(off); !s.repeated(inst, off, start, end) {
				return time.Unix(inst, 0).In(s.opts.Location)
			}
		}
		if end == noEnd {
			return time.Time{}
		}
		frontier = max(frontier, hi+1)
		if s.shiftedInto(end, off) {
			return time.Unix(end, 0).In(s.opts.Location)
		}
		u = end
		if start, end, off = s.period(u); !found && u+int64(off) >= frontier {
			return time.Time{} // no match ahead, and no repeated readings to revisit
		}
		// No reading between the frontier and w matches, so once this period
		// repeats no readings below the frontier, the periods wholly before
		// w (less a margin for offsets) hold no fire: jump.
		if target := w - int64(off) - jumpMargin; jumps && found && end != noEnd && target > end && u+int64(off) >= frontier {
			u = target
			start, end, off = s.period(u)
			frontier = max(frontier, u+int64(off))
		}
	}
	return time.Time{}
}

// prevZoned is nextZoned backwards: the last fire at or before instant u.
// Here frontier is the lowest wall reading searched, and a period that ends
// with a fall-back repeats readings above it.
func (s *Schedule) prevZoned(u int64) time.Time {
	start, end, off := s.period(u)
	frontier := u + int64(off)
	w, found := s.prevWall(frontier, minWall)
	for range maxPeriods {
		lo, hi := minWall, u+int64(off)
		if start != noStart {
			lo = start + int64(off)
		}
		if hi > frontier { // readings this period repeats
			limit := max(frontier+1, lo)
			for r, ok := s.prevWall(hi, limit); ok; r, ok = s.prevWall(r-1, limit) {
				if inst := r - int64(off); !s.repeated(inst, off, start, end) {
					return time.Unix(inst, 0).In(s.opts.Location)
				}
			}
		}
		if found && w > hi { // w fell in a gap after this period
			w, found = s.prevWall(hi, minWall)
		}
		for ; found && w >= lo; w, found = s.prevWall(w-1, minWall) {
			if inst := w - int64(off); !s.repeated(inst, off, start, end) {
				return time.Unix(inst, 0).In(s.opts.Location)
			}
		}
		if start == noStart {
			return time.Time{}
		}
		frontier = min(frontier, lo-1)
		if s.shiftedInto(start, s.offsetAt(start-1)) {
			return time.Unix(start, 0).In(s.opts.Location)
		}
		u = start - 1
		if start, end, off = s.period(u); !found && u+int64(off) <= frontier {
			return time.Time{} // no match behind, and no repeated readings to revisit
		}
		if target := w - int64(off) + jumpMargin; jumps && found && start != noStart && target < start && u+int64(off) <= frontier {
			u = target
			start, end, off = s.period(u)
			frontier = min(frontier, u+int64(off))
		}
	}
	return time.Time{}
}

// shiftedInto reports whether a fixed-time fire skipped by a spring-forward
// gap that ends at the transition tr (offset before it: off) fires at tr.
func (s *Schedule) shiftedInto(tr int64, off int) bool {
	if !s.fixed || s.opts.Gap != GapShift {
		return false
	}
	after := s.offsetAt(tr)
	if after <= off {
		return false
	}
	_, ok := s.nextWall(tr+int64(off), tr+int64(after)-1)
	return ok
}

// nearTransition is how close to a zone period's edge an instant must be
// before repeated looks up the neighbouring offset: more than any offset
// change the zone database records.
const nearTransition = 2 * 86400

// repeated reports whether the fire at inst, in the zone period [start,
// end) of offset off, is an occurrence of a repeated wall time that the
// overlap policy drops: the second one under OverlapFirst, the first under
// OverlapLast. Only fixed-time schedules drop any.
func (s *Schedule) repeated(inst int64, off int, start, end int64) bool {
	if !s.fixed {
		return false
	}
	switch s.opts.Overlap {
	case OverlapFirst:
		if start == noStart || inst-start >= nearTransition {
			return false
		}
		before := s.offsetAt(start - 1)
		return before > off && inst < start+int64(before-off)
	case OverlapLast:
		if end == noEnd || end-inst > nearTransition {
			return false
		}
		after := s.offsetAt(end)
		return after < off && inst >= end-int64(off-after)
	}
	return false
}
