package cron

import "time"

// Schedule is a parsed cron expression bound to a time zone and the
// evaluation rules of its Options. It is immutable and safe for concurrent
// use. Build one with Parse.
type Schedule struct {
	expr  string
	opts  Options
	utc   bool
	zones *zoneTable    // the Location's offset changes; nil for UTC
	every time.Duration // @every; zero otherwise

	sec, min, hour uint64 // bit n set: value n matches

	firstSec, firstMin, firstTime int       // earliest matching second, minute, and second of the day
	lastSec, lastMin, lastTime    int       // latest ones
	dom                           uint64    // plain days of the month, bits 1-31
	month                         uint64    // bits 1-12
	dow                           uint8     // plain weekdays, bits 0-6 (Sunday is 0)
	dowPat                        [7]uint32 // plain weekdays as days of a month starting on weekday i
	years                         [4]uint64 // bit y-minYear; only with hasYears
	hasYears                      bool
	yearLo, yearHi                int // bounds of the year field

	lastOff uint64   // L-n: bit n means the n-th day before the last (L is bit 0)
	nearW   uint64   // nW: bit n means the weekday nearest day n
	lastW   bool     // LW: the last weekday of the month
	dowLast uint8    // nL: bit w means the last weekday w of the month
	dowNth  [7]uint8 // n#k: dowNth[w] bit k means the k-th weekday w
	special bool     // any of the five above

	domStar, dowStar bool // the field starts with "*" or is "?"
	useOr            bool // either day field may match (Vixie's rule)
	fixed            bool // second, minute and hour name wall-clock times (DST rules apply)
	nFields          int
}

// String returns the expression as given, without surrounding space.
func (s *Schedule) String() string { return s.expr }

// Location returns the zone the expression is read in.
func (s *Schedule) Location() *time.Location { return s.opts.Location }

// Options returns the options the schedule was parsed with, Location
// filled in.
func (s *Schedule) Options() Options { return s.opts }

// Fixed reports whether the schedule names fixed wall-clock times, to which
// the Gap and Overlap policies apply: its second, minute and hour fields
// each name values rather than starting with "*" or stepping with "/".
// Other schedules run by absolute time: a skipped wall-clock time does not
// fire, and one that happens twice fires twice.
func (s *Schedule) Fixed() bool { return s.fixed }
