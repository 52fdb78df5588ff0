// Package cronbench compares sundial's cron engine with peer libraries
// through one small adapter per library: parse an expression in a zone,
// then ask for the next fire after an instant.
package cronbench

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/adhocore/gronx"
	"github.com/reugn/go-quartz/quartz"
	robfig "github.com/robfig/cron/v3"
	"github.com/sundialhq/sundial/cron"
)

// Nexter returns the first fire strictly after t.
type Nexter func(t time.Time) time.Time

// Lib is one cron library behind a common face.
type Lib struct {
	Name string
	// Parse prepares expr in loc; errUnsupported when the library cannot
	// express it.
	Parse func(expr string, loc *time.Location) (Nexter, error)
	// ParsesPerCall is true for libraries with no parsed form: every Next
	// parses the expression again, so Parse is not measured alone.
	ParsesPerCall bool
}

var errUnsupported = errors.New("not supported by this library")

// IsUnsupported reports whether err says the library cannot express an
// expression.
func IsUnsupported(err error) bool { return errors.Is(err, errUnsupported) }

// Exprs is the fixed benchmark set: 5-field expressions unless noted.
var Exprs = []string{
	"*/5 * * * *",
	"0 0 * * *",
	"30 2 * * 1-5",
	"0 0 29 2 *",
	"0 9-17 * * MON-FRI",
	"0 0 L * *",
	"15 10 * * 5#3",
	"0 0 1 1 *",
	"0 */2 * * *",
	"0 0 1,15 * *",
	"0 12 * * SUN",
	"0 30 9 * * *", // 6 fields, seconds first
}

// Zones are the zones each expression is measured in.
var Zones = []string{"UTC", "America/New_York"}

// Libs are the libraries compared, sundial first.
var Libs = []Lib{
	{Name: "sundial", Parse: parseSundial},
	{Name: "robfig", Parse: parseRobfig},
	{Name: "gronx", Parse: parseGronx, ParsesPerCall: true},
	{Name: "quartz", Parse: parseQuartz},
}

func parseSundial(expr string, loc *time.Location) (Nexter, error) {
	s, err := cron.Parse(expr, &cron.Options{Location: loc})
	if err != nil {
		return nil, err
	}
	return s.Next, nil
}

var robfigSeconds = robfig.NewParser(robfig.Second | robfig.Minute | robfig.Hour | robfig.Dom | robfig.Month | robfig.Dow | robfig.Descriptor)

func parseRobfig(expr string, loc *time.Location) (Nexter, error) {
	if strings.ContainsAny(expr, "L#W") {
		return nil, errUnsupported
	}
	var s robfig.Schedule
	var err error
	if len(strings.Fields(expr)) == 6 {
		s, err = robfigSeconds.Parse(expr)
	} else {
		s, err = robfig.ParseStandard(expr)
	}
	if err != nil {
		return nil, err
	}
	// robfig evaluates in the zone of the time it is given.
	return func(t time.Time) time.Time { return s.Next(t.In(loc)) }, nil
}

func parseGronx(expr string, loc *time.Location) (Nexter, error) {
	if !gronx.IsValid(expr) {
		return nil, errUnsupported
	}
	return func(t time.Time) time.Time {
		n, err := gronx.NextTickAfter(expr, t.In(loc), false)
		if err != nil {
			return time.Time{}
		}
		return n
	}, nil
}

func parseQuartz(expr string, loc *time.Location) (Nexter, error) {
	q, err := ToQuartz(expr)
	if err != nil {
		return nil, err
	}
	tr, err := quartz.NewCronTriggerWithLoc(q, loc)
	if err != nil {
		return nil, err
	}
	return func(t time.Time) time.Time {
		n, err := tr.NextFireTime(t.UnixNano())
		if err != nil {
			return time.Time{}
		}
		return time.Unix(0, n).In(loc)
	}, nil
}

// ToQuartz translates a 5- or 6-field expression into Quartz's dialect:
// seconds first, "?" in one day field, and weekdays numbered 1 (Sunday) to
// 7. Expressions that restrict both day fields have no Quartz form.
func ToQuartz(expr string) (string, error) {
	f := strings.Fields(expr)
	if len(f) == 5 {
		f = append([]string{"0"}, f...)
	}
	if len(f) != 6 {
		return "", errUnsupported
	}
	switch {
	case f[5] == "*":
		f[5] = "?"
	case f[3] == "*":
		f[3] = "?"
	default:
		return "", errUnsupported
	}
	f[5] = quartzDow(f[5])
	return strings.Join(f, " "), nil
}

// quartzDow renumbers weekday digits: Vixie's 0-7 (0 and 7 Sunday) to
// Quartz's 1-7 (1 Sunday). Only a digit that starts a value is a weekday
// ("5#3": 5 is, 3 is not).
func quartzDow(field string) string {
	var b strings.Builder
	for i := 0; i < len(field); i++ {
		c := field[i]
		startsValue := i == 0 || field[i-1] == ',' || field[i-1] == '-'
		if c >= '0' && c <= '7' && startsValue && (i+1 == len(field) || field[i+1] < '0' || field[i+1] > '9') {
			b.WriteString(strconv.Itoa(int(c-'0')%7 + 1))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// Times returns 1024 instants spread over 2024 and 2025 in loc, the same
// every run, DST change days included.
func Times(loc *time.Location) []time.Time {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, loc).Unix()
	out := make([]time.Time, 1024)
	x := uint64(88172645463325252)
	for i := range out {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		out[i] = time.Unix(start+int64(x%(2*365*86400)), 0).In(loc)
	}
	return out
}
