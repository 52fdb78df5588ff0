package cron

import (
	"math"
	"sync"
	"time"
)

// noStart and noEnd stand for an open end of a zone period.
const (
	noStart = math.MinInt64
	noEnd   = math.MaxInt64
)

// zoneTable lists a location's offset changes from 1900 to 2200, so a
// search finds the period around an instant with one binary search
// instead of two lookups in the time package (which, past the zone
// database's last listed year, parse the zone's rule string each time).
type zoneTable struct {
	starts []int64 // period i begins at starts[i] (noStart for the first, if open)
	offs   []int   // and has offset offs[i], in seconds east of UTC
	limit  int64   // instants at or after limit are not covered (noEnd: all are)
}

var zoneTables sync.Map // *time.Location → *zoneTable

// tableFor returns the table for loc, building it the first time.
func tableFor(loc *time.Location) *zoneTable {
	if z, ok := zoneTables.Load(loc); ok {
		return z.(*zoneTable)
	}
	z, _ := zoneTables.LoadOrStore(loc, buildTable(loc))
	return z.(*zoneTable)
}

func buildTable(loc *time.Location) *zoneTable {
	t := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC).In(loc)
	stop := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	zs, _ := t.ZoneBounds()
	z := &zoneTable{starts: []int64{noStart}, limit: noEnd}
	if !zs.IsZero() {
		z.starts[0] = zs.Unix()
	}
	_, off := t.Zone()
	z.offs = append(z.offs, off)
	for range 100000 {
		ze := periodEnd(t)
		if ze.IsZero() {
			return z
		}
		if ze.Unix() >= stop {
			z.limit = ze.Unix()
			return z
		}
		// Past its listed years the zone database splits periods at year
		// ends without an offset change; keep only real changes.
		if _, o := ze.Zone(); o != z.offs[len(z.offs)-1] {
			z.starts = append(z.starts, ze.Unix())
			z.offs = append(z.offs, o)
		}
		t = ze
	}
	z.limit = t.Unix()
	return z
}

// periodEnd returns the end of the zone period around t. Past the zone
// database's listed years, time.ZoneBounds computes a rule-based zone's
// year-end split one day early in leap years, so on December 31 it reports
// an end at or before t; then the next boundary is found from a day later.
func periodEnd(t time.Time) time.Time {
	_, ze := t.ZoneBounds()
	if ze.IsZero() || ze.After(t) {
		return ze
	}
	zs, ze := t.Add(24 * time.Hour).ZoneBounds()
	if zs.After(t) {
		return zs
	}
	return ze
}

// period returns the zone period around instant u: its bounds and offset.
func (s *Schedule) period(u int64) (start, end int64, off int) {
	z := s.zones
	if u >= z.starts[0] && u < z.limit {
		lo, hi := 0, len(z.starts)-1 // find the last start at or before u
		for lo < hi {
			mid := int(uint(lo+hi+1) >> 1)
			if z.starts[mid] <= u {
				lo = mid
			} else {
				hi = mid - 1
			}
		}
		end = z.limit
		if lo+1 < len(z.starts) {
			end = z.starts[lo+1]
		}
		return z.starts[lo], end, z.offs[lo]
	}
	at := time.Unix(u, 0).In(s.opts.Location)
	_, off = at.Zone()
	zs, _ := at.ZoneBounds()
	ze := periodEnd(at)
	start, end = noStart, noEnd
	if !zs.IsZero() {
		start = zs.Unix()
	}
	if !ze.IsZero() {
		end = ze.Unix()
	}
	return start, end, off
}

// offsetAt returns the zone offset in effect at instant u.
func (s *Schedule) offsetAt(u int64) int {
	_, _, off := s.period(u)
	return off
}
