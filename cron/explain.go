package cron

import (
	"math/bits"
	"strconv"
	"strings"
	"time"
)

var (
	monthNames = []string{"", "January", "February", "March", "April", "May", "June", "July",
		"August", "September", "October", "November", "December"}
	dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
	ordinals = []string{"", "first", "second", "third", "fourth", "fifth"}
)

// Explain describes the schedule in plain English, for example
// "At 09:00 on the third Friday of every month" or
// "Every 5 minutes, on Monday through Friday". The zone is not named; the
// caller knows it.
func (s *Schedule) Explain() string {
	if s.every > 0 {
		return "Every " + s.every.String()
	}
	var b strings.Builder
	t := s.explainTime()
	b.WriteString(t)
	days := s.explainDays()
	switch {
	case days == " every day" && !strings.HasPrefix(t, "At "):
		// "Every 5 minutes" needs no "every day"
	case !strings.HasPrefix(t, "At ") || t[3] < '0' || t[3] > '9': // not a clock time
		b.WriteString("," + days)
	default:
		b.WriteString(days)
	}
	if s.hasYears {
		b.WriteString(", in " + s.explainYears())
	}
	return b.String()
}

// explainTime describes the second, minute and hour fields.
func (s *Schedule) explainTime() string {
	fields := s.fieldTexts()
	secs, mins, hours := bits.OnesCount64(s.sec), bits.OnesCount64(s.min), bits.OnesCount64(s.hour)
	if hours*mins*secs <= 4 && mins <= 2 && hours <= 4 {
		return "At " + s.clockList()
	}
	if s.sec == 1 && mins < 60 {
		if m := describeField(s.min, 0, 59, fields[1], "minute"); !strings.HasPrefix(m, "every") {
			return "At " + strings.TrimPrefix(m, "at ") + " past " + hourPhrase(s.hour, fields[2])
		}
	}
	var parts []string
	switch {
	case secs == 60:
		parts = append(parts, "every second")
	case s.sec != 1:
		parts = append(parts, describeField(s.sec, 0, 59, fields[0], "second"))
	}
	switch {
	case mins == 60 && len(parts) > 0 && (secs == 60 || strings.HasPrefix(parts[0], "every")):
		// "every second" or "every 10 seconds" covers every minute
	case mins == 60:
		parts = append(parts, "every minute")
	default:
		parts = append(parts, describeField(s.min, 0, 59, fields[1], "minute"))
	}
	if hours != 24 {
		parts = append(parts, "during "+hourPhrase(s.hour, fields[2]))
	}
	out := strings.Join(parts, ", ")
	return strings.ToUpper(out[:1]) + out[1:]
}

// hourPhrase words the hour field: "every hour", "every 2 hours", "hours 9
// through 17", "hours 8 and 20".
func hourPhrase(mask uint64, text string) string {
	if mask == 1<<24-1 {
		return "every hour"
	}
	d := describeField(mask, 0, 23, text, "hour")
	if strings.HasPrefix(d, "at hour") {
		return "hour " + strings.TrimPrefix(d, "at hour ")
	}
	return d
}

// clockList lists the few times of day the schedule fires at.
func (s *Schedule) clockList() string {
	var times []string
	for h := s.hour; h != 0; h &= h - 1 {
		for m := s.min; m != 0; m &= m - 1 {
			for sc := s.sec; sc != 0; sc &= sc - 1 {
				t := pad2(bits.TrailingZeros64(h)) + ":" + pad2(bits.TrailingZeros64(m))
				if s.sec != 1 {
					t += ":" + pad2(bits.TrailingZeros64(sc))
				}
				times = append(times, t)
			}
		}
	}
	return joinAnd(times)
}

// describeField words one time field: "every 5 minutes", "minutes 0
// through 30", "at minute 15", "hours 9 through 17".
func describeField(mask uint64, lo, hi int, text, unit string) string {
	if step := stepOf(text); step > 1 && strings.HasPrefix(text, "*/") {
		return "every " + strconv.Itoa(step) + " " + unit + "s"
	}
	vals := values(mask, lo, hi)
	if len(vals) == 1 {
		return "at " + unit + " " + strconv.Itoa(vals[0])
	}
	if r := asRange(vals); r != "" {
		return unit + "s " + r
	}
	return unit + "s " + joinAnd(itoas(vals))
}

func (s *Schedule) explainDays() string {
	dom, dow := s.explainDom(), s.explainDow()
	var phrase string
	switch {
	case dom == "" && dow == "":
		return " every day" + s.explainMonths()
	case dom == "":
		phrase = dow
	case dow == "":
		phrase = dom
	case s.useOr:
		phrase = dom + " or on " + dow
	default:
		phrase = dom + " if it is " + dow
	}
	return " on " + s.withMonths(phrase)
}

// withMonths joins the month field to a day phrase: "the third Friday of
// the month" becomes "... of every month" or "... of March".
func (s *Schedule) withMonths(phrase string) string {
	months := s.explainMonths()
	rest, ok := strings.CutSuffix(phrase, "of the month")
	switch {
	case !ok:
		return phrase + months
	case months == "":
		return rest + "of every month"
	case bits.OnesCount64(s.month) == 1:
		return rest + "of " + strings.TrimPrefix(months, " in ")
	}
	return phrase + "," + months
}

func (s *Schedule) explainDom() string {
	if s.domStar {
		return ""
	}
	var parts []string
	if vals := values(s.dom, 1, 31); len(vals) > 0 {
		if r := asRange(vals); r != "" {
			parts = append(parts, "days "+r)
		} else if len(vals) == 1 {
			parts = append(parts, "day "+strconv.Itoa(vals[0]))
		} else {
			parts = append(parts, "days "+joinAnd(itoas(vals)))
		}
	}
	for off := s.lastOff; off != 0; off &= off - 1 {
		if n := bits.TrailingZeros64(off); n == 0 {
			parts = append(parts, "the last day")
		} else {
			parts = append(parts, "the day "+strconv.Itoa(n)+" before the last day")
		}
	}
	for w := s.nearW; w != 0; w &= w - 1 {
		parts = append(parts, "the weekday nearest day "+strconv.Itoa(bits.TrailingZeros64(w)))
	}
	if s.lastW {
		parts = append(parts, "the last weekday")
	}
	if len(parts) == 0 {
		return ""
	}
	return joinAnd(parts) + " of the month"
}

func (s *Schedule) explainDow() string {
	if s.dowStar {
		return ""
	}
	var parts []string
	if vals := values(uint64(s.dow), 0, 6); len(vals) > 0 {
		if r := asDayRange(vals); r != "" {
			parts = append(parts, r)
		} else {
			names := make([]string, len(vals))
			for i, v := range vals {
				names[i] = dayNames[v]
			}
			parts = append(parts, joinAnd(names))
		}
	}
	var special []string
	for w := range 7 {
		for k := s.dowNth[w]; k != 0; k &= k - 1 {
			special = append(special, "the "+ordinals[bits.TrailingZeros8(k)]+" "+dayNames[w])
		}
		if s.dowLast&(1<<w) != 0 {
			special = append(special, "the last "+dayNames[w])
		}
	}
	if len(special) > 0 {
		parts = append(parts, joinAnd(special)+" of the month")
	}
	return joinAnd(parts)
}

func (s *Schedule) explainMonths() string {
	if s.month == 0x1ffe {
		return ""
	}
	vals := values(s.month, 1, 12)
	names := make([]string, len(vals))
	for i, v := range vals {
		names[i] = monthNames[v]
	}
	if len(vals) > 2 && vals[len(vals)-1]-vals[0] == len(vals)-1 {
		return " in " + names[0] + " through " + names[len(names)-1]
	}
	return " in " + joinAnd(names)
}

func (s *Schedule) explainYears() string {
	var vals []int
	for y := s.yearLo; y <= s.yearHi; y++ {
		if s.yearOK(y) {
			vals = append(vals, y)
		}
	}
	if r := asRange(vals); r != "" {
		return r
	}
	return joinAnd(itoas(vals))
}

func values(mask uint64, lo, hi int) []int {
	var out []int
	for v := lo; v <= hi; v++ {
		if mask&(1<<v) != 0 {
			out = append(out, v)
		}
	}
	return out
}

// asRange words three or more consecutive values as "a through b".
func asRange(vals []int) string {
	if len(vals) < 3 || vals[len(vals)-1]-vals[0] != len(vals)-1 {
		return ""
	}
	return strconv.Itoa(vals[0]) + " through " + strconv.Itoa(vals[len(vals)-1])
}

func asDayRange(vals []int) string {
	if len(vals) < 3 || vals[len(vals)-1]-vals[0] != len(vals)-1 {
		return ""
	}
	return dayNames[vals[0]] + " through " + dayNames[vals[len(vals)-1]]
}

func stepOf(text string) int {
	if _, step, ok := strings.Cut(text, "/"); ok && !strings.Contains(text, ",") {
		n, _ := atoi(step)
		return n
	}
	return 0
}

func itoas(vals []int) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = strconv.Itoa(v)
	}
	return out
}

func joinAnd(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func pad2(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

// DSTNote returns a short note when the fire at fire was moved or doubled
// by a daylight-saving change, and "" otherwise. For example: "02:30 does
// not exist on 2024-03-10 (clocks go forward); fires at 03:00 instead", or
// "01:30 happens twice on 2024-11-03 (clocks go back); this is the first
// of them". fire should be a time Next or Prev returned.
func (s *Schedule) DSTNote(fire time.Time) string {
	if s.utc || s.every > 0 {
		return ""
	}
	u := fire.Unix()
	start, end, off := s.period(u)
	if s.fixed && start != noStart && u == start {
		if before := s.offsetAt(start - 1); before < off {
			if w, ok := s.nextWall(start+int64(before), start+int64(off)-1); ok {
				return clockOf(w) + " does not exist on " + dateOf(w) +
					" (clocks go forward); fires at " + clockOf(u+int64(off)) + " instead"
			}
		}
	}
	return s.overlapNote(u, off, start, end)
}

func (s *Schedule) overlapNote(u int64, off int, start, end int64) string {
	w := u + int64(off)
	which := ""
	if start != noStart && u-start < nearTransition {
		if before := s.offsetAt(start - 1); before > off && u < start+int64(before-off) {
			which = "second"
		}
	}
	if which == "" && end != noEnd && end-u <= nearTransition {
		if after := s.offsetAt(end); after < off && u >= end-int64(off-after) {
			which = "first"
		}
	}
	if which == "" {
		return ""
	}
	note := clockOf(w) + " happens twice on " + dateOf(w) + " (clocks go back); this is the " + which + " of them"
	if s.fixed && s.opts.Overlap != OverlapBoth {
		return note + ", and the only one that fires"
	}
	return note + ", and both fire"
}

func clockOf(w int64) string {
	_, sod := splitWall(w)
	out := pad2(sod/3600) + ":" + pad2(sod/60%60)
	if sec := sod % 60; sec != 0 {
		out += ":" + pad2(sec)
	}
	return out
}

func dateOf(w int64) string {
	day, _ := splitWall(w)
	y, m, d := civilFromDays(day)
	return strconv.Itoa(y) + "-" + pad2(m) + "-" + pad2(d)
}
