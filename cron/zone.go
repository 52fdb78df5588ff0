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
	end := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	zs, _ := t.ZoneBounds()
	z := &zoneTable{starts: []int64{noStart}, limit: noEnd}
	if !zs.IsZero() {
		z.starts[0] = zs.Unix()
	}
	_, off := t.Zone()
	z.offs = append(z.offs, off)
	for range 10000 {
		_, ze := t.ZoneBounds()
		if ze.IsZero() {
			return z
		}
		if ze.Unix() >= end {
			break
		}
		_, o := ze.Zone()
		z.starts = append(z.starts, ze.Unix())
		z.offs = append(z.offs, o)
		t = ze
	}
	_, ze := t.ZoneBounds()
	z.limit = ze.Unix()
	return z
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
	zs, ze := at.ZoneBounds()
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
