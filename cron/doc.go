// Package cron parses cron expressions and computes their fire times in any
// time zone, with explicit rules for daylight-saving changes. It imports
// only the standard library.
//
//	s, err := cron.Parse("0 9 * * MON-FRI", &cron.Options{Location: seoul})
//	next := s.Next(time.Now()) // the first fire strictly after now
//
// # Fields
//
// An expression has 5, 6 or 7 fields separated by spaces:
//
//	Field          Values        Special characters
//	second         0-59          * , - /        (6 and 7 fields only, first)
//	minute         0-59          * , - /
//	hour           0-23          * , - /
//	day-of-month   1-31          * , - / ? L L-n nW LW
//	month          1-12, JAN-DEC * , - /
//	day-of-week    0-7, SUN-SAT  * , - / ? L nL n#k   (0 and 7 are Sunday)
//	year           1970-2199     * , - /        (7 fields only, last)
//
// Names are case-insensitive and may form ranges (MON-FRI). "a/n" means a
// through the field's maximum, every n. A range must run from the smaller
// value to the larger. Quartz's specials:
//
//	?     no restriction (day-of-month or day-of-week only)
//	L     day-of-month: the last day of the month; day-of-week: Saturday
//	L-n   the n-th day before the last day of the month (L-1: the day before)
//	nW    the weekday (Monday-Friday) nearest day n, within the month:
//	      1W on a Saturday fires on Monday the 3rd
//	LW    the last weekday of the month
//	nL    the last weekday n of the month: 5L is the last Friday
//	n#k   the k-th weekday n of the month: 5#3 is the third Friday
//
// Macros: @yearly (or @annually) "0 0 1 1 *", @monthly "0 0 1 * *", @weekly
// "0 0 * * 0", @daily (or @midnight) "0 0 * * *", @hourly "0 * * * *", and
// @every <duration>, which fires every duration of absolute time after the
// instant it is asked about (Next(t) is t+d), in Go's syntax ("90s", "1h30m").
//
// An expression that can never fire, such as "0 0 30 2 *", is refused by
// Parse, as is anything malformed; the *ParseError names the field, the
// token and the reason:
//
//	cron: day-of-month field: "32" is out of range 1-31
//
// # Day-of-month and day-of-week
//
// When both day fields are restricted (neither starts with "*" nor is "?"),
// DayOr, the default, fires on days matching either, as Vixie cron and
// POSIX do: "0 0 13 * FRI" fires on every 13th and on every Friday. DayAnd
// fires on days matching both, as APScheduler and Temporal do: the same
// expression then fires only on Friday the 13th (2024-09-13, 2024-12-13).
// When either field starts with "*", the other alone decides, under both
// rules (so "0 0 */2 * MON" is odd days that are Mondays, as in Vixie cron).
//
// # Daylight saving
//
// A schedule is fixed-time when its second, minute and hour fields name
// values (single values, lists, plain ranges; a 5-field expression's second
// is 0), and runs by absolute time when any of them starts with "*" or
// steps with "/". The rules below follow Vixie cron by default; Options
// chooses others for fixed-time schedules.
//
// Spring forward. On 2024-03-10 in America/New_York the clocks go from
// 02:00 to 03:00. "30 2 * * *" fires once at 03:00 EDT, the first instant
// after the gap (GapShift), or not at all that day (GapSkip). Several
// skipped times of one gap fire once. "*/15 * * * *" runs by absolute time:
// 01:45 EST is followed by 03:00 EDT, fifteen minutes later.
//
// Fall back. On 2024-11-03 in America/New_York the clocks go from 02:00
// back to 01:00. "30 1 * * *" fires once at 01:30 EDT, the first occurrence
// (OverlapFirst), once at 01:30 EST (OverlapLast), or at both (OverlapBoth).
// "*/15 * * * *" fires at 01:00, 01:15, 01:30 and 01:45 EDT and again at
// 01:00 ... 01:45 EST: every fifteen minutes of absolute time.
//
// The same rules hold for 30-minute changes, as in Australia/Lord_Howe
// (2024-10-06: 02:00 to 02:30; 2024-04-07: 02:00 back to 01:30), and for
// 6- and 7-field expressions. DSTNote says when a fire was moved or doubled.
//
// # Evaluation
//
// Next and Prev search bitsets field by field and allocate nothing. They
// agree: Next(t) is the smallest fire after t, Prev(t) the largest before
// t, over one set of fire instants.
package cron
