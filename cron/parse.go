package cron

import (
	"strings"
	"time"
)

// Year bounds of the seventh field.
const (
	minYear = 1970
	maxYear = 2199
)

type fieldSpec struct {
	name     string
	min, max int
	names    []string // names[i] is value min+i's name, lower case
}

var (
	secondSpec = fieldSpec{name: "second", min: 0, max: 59}
	minuteSpec = fieldSpec{name: "minute", min: 0, max: 59}
	hourSpec   = fieldSpec{name: "hour", min: 0, max: 23}
	domSpec    = fieldSpec{name: "day-of-month", min: 1, max: 31}
	monthSpec  = fieldSpec{name: "month", min: 1, max: 12,
		names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}}
	dowSpec = fieldSpec{name: "day-of-week", min: 0, max: 7,
		names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}}
	yearSpec = fieldSpec{name: "year", min: minYear, max: maxYear}
)

var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// Parse parses a cron expression; opts may be nil. It fails with a
// *ParseError that names the field, the token and the reason: a wrong number
// of fields, a value out of range, an unknown name, a misplaced special
// character, or an expression that can never fire (such as "0 0 30 2 *").
// See the package documentation for the dialect.
func Parse(expr string, opts *Options) (*Schedule, error) {
	s := &Schedule{expr: strings.TrimSpace(expr)}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Location == nil {
		s.opts.Location = time.UTC
	}
	s.utc = s.opts.Location == time.UTC
	if !s.utc {
		s.zones = tableFor(s.opts.Location)
	}
	if err := s.checkOptions(); err != nil {
		return nil, err
	}
	if err := s.parse(); err != nil {
		err.Expr = s.expr
		return nil, err
	}
	return s, nil
}

// MustParse is like Parse but panics on error. It is meant for expressions
// written in the program's source.
func MustParse(expr string, opts *Options) *Schedule {
	s, err := Parse(expr, opts)
	if err != nil {
		panic(err)
	}
	return s
}

func (s *Schedule) checkOptions() error {
	o := s.opts
	switch {
	case o.Gap > GapSkip:
		return &ParseError{Expr: s.expr, Reason: "has an unknown gap policy " + o.Gap.String()}
	case o.Overlap > OverlapBoth:
		return &ParseError{Expr: s.expr, Reason: "has an unknown overlap policy " + o.Overlap.String()}
	case o.DayRule > DayAnd:
		return &ParseError{Expr: s.expr, Reason: "has an unknown day rule " + o.DayRule.String()}
	}
	return nil
}

func (s *Schedule) parse() *ParseError {
	text := s.expr
	if strings.HasPrefix(text, "@") {
		if rest, ok := strings.CutPrefix(text, "@every"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
			return s.parseEvery(strings.TrimSpace(rest))
		}
		m, ok := macros[strings.ToLower(text)]
		if !ok {
			return &ParseError{Token: text, Reason: "is not a known macro (want @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly or @every <duration>)"}
		}
		text = m
	}
	var f [7]string
	n := splitFields(text, &f)
	switch n {
	case 5:
		copy(f[1:6], f[:5])
		f[0] = "0"
	case 6, 7:
	default:
		return &ParseError{Reason: "has " + itoa(n) + " fields, want 5 (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 (seconds first, year last)"}
	}
	if n < 7 {
		f[6] = "*"
	}
	s.nFields = n
	if err := s.parseFields(&f); err != nil {
		return err
	}
	s.finish(&f)
	return s.checkFires()
}

// fieldTexts returns the expression's seven field texts, seconds first, as
// Parse saw them (macros expanded, a 5-field second of "0").
func (s *Schedule) fieldTexts() [7]string {
	text := s.expr
	if m, ok := macros[strings.ToLower(text)]; ok {
		text = m
	}
	var f [7]string
	if splitFields(text, &f) == 5 {
		copy(f[1:6], f[:5])
		f[0] = "0"
		f[6] = "*"
	} else if s.nFields == 6 {
		f[6] = "*"
	}
	return f
}

func (s *Schedule) parseFields(f *[7]string) *ParseError {
	var err *ParseError
	if s.sec, err = parseField(f[0], &secondSpec); err != nil {
		return err
	}
	if s.min, err = parseField(f[1], &minuteSpec); err != nil {
		return err
	}
	if s.hour, err = parseField(f[2], &hourSpec); err != nil {
		return err
	}
	if err = s.parseDom(f[3]); err != nil {
		return err
	}
	if s.month, err = parseField(f[4], &monthSpec); err != nil {
		return err
	}
	if err = s.parseDow(f[5]); err != nil {
		return err
	}
	return s.parseYears(f[6])
}

// finish derives the evaluation flags from the parsed fields.
func (s *Schedule) finish(f *[7]string) {
	s.domStar = f[3] == "?" || f[3][0] == '*'
	s.dowStar = f[5] == "?" || f[5][0] == '*'
	s.useOr = !s.domStar && !s.dowStar && s.opts.DayRule == DayOr
	s.fixed = !wildcardLike(f[0]) && !wildcardLike(f[1]) && !wildcardLike(f[2])
	s.special = s.lastOff != 0 || s.nearW != 0 || s.lastW || s.dowLast != 0
	for w := range s.dowNth {
		s.special = s.special || s.dowNth[w] != 0
	}
	// Weekday patterns: day d of a month starting on weekday f falls on
	// weekday (f+d-1)%7, so a run of the 7-bit set repeated, shifted by f,
	// lists the matching days.
	var rep uint64
	for k := 0; k < 6; k++ {
		rep |= uint64(s.dow) << (7 * k)
	}
	for f := range 7 {
		s.dowPat[f] = uint32(rep>>f<<1) &^ 1
	}
	s.firstSec, s.lastSec = nextBit(s.sec, 0), prevBit(s.sec, 59)
	s.firstMin, s.lastMin = nextBit(s.min, 0), prevBit(s.min, 59)
	s.firstTime = nextBit(s.hour, 0)*3600 + s.firstMin*60 + s.firstSec
	s.lastTime = prevBit(s.hour, 23)*3600 + s.lastMin*60 + s.lastSec
}

// wildcardLike reports whether a time field runs by absolute time: it starts
// with "*" or steps with "/".
func wildcardLike(field string) bool {
	return field[0] == '*' || strings.IndexByte(field, '/') >= 0
}

func (s *Schedule) parseEvery(arg string) *ParseError {
	if arg == "" {
		return &ParseError{Token: "@every", Reason: "needs a duration, such as @every 90s"}
	}
	d, err := time.ParseDuration(arg)
	if err != nil {
		return &ParseError{Token: arg, Reason: "is not a duration (want Go syntax such as 90s or 1h30m)"}
	}
	if d <= 0 {
		return &ParseError{Token: arg, Reason: "is not a positive duration"}
	}
	s.every = d
	return nil
}

// splitFields splits text on spaces and tabs into f, returning how many
// fields there were (which may exceed len(f)).
func splitFields(text string, f *[7]string) int {
	n := 0
	for i := 0; i < len(text); {
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
		start := i
		for i < len(text) && text[i] != ' ' && text[i] != '\t' {
			i++
		}
		if i > start {
			if n < len(f) {
				f[n] = text[start:i]
			}
			n++
		}
	}
	return n
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	neg := n < 0
	if neg {
		n = -n
	}
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}
