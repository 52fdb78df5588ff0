package cron

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseValid(t *testing.T) {
	for _, expr := range []string{
		"* * * * *", "0 0 * * *", "*/5 * * * *", "0-59/15 * * * *", "5/15 * * * *", "1,2,3 4-5 6 7 0",
		"0 0 1 JAN SUN", "0 0 1 jan-mar mon-fri", "0 0 ? * MON", "0 0 1 * ?", "0 0 L * *", "0 0 L-30 * *",
		"0 0 1W * *", "0 0 LW * *", "0 0 1,L * *", "0 0 * * 5L", "0 0 * * FRIL", "0 0 * * 5#1,1#5", "0 0 * * L",
		"0 0 0 * * *", "59 59 23 31 12 7", "0 0 0 1 1 * 2199", "0 0 0 1 1 ? 1970-2199/10", "  0 0 * * *  ",
		"0\t0\t*\t*\t*", "@yearly", "@ANNUALLY", "@monthly", "@weekly", "@daily", "@midnight", "@hourly",
		"@every 1s", "@every 1h30m", "@every 1ns", "0 0 29 2 *", "0 0 31 1,3 *", "*/60 * * * *",
	} {
		s, err := Parse(expr, nil)
		if err != nil {
			t.Errorf("Parse(%q): %v", expr, err)
			continue
		}
		if s.String() != strings.TrimSpace(expr) {
			t.Errorf("String() = %q, want %q", s.String(), strings.TrimSpace(expr))
		}
		if s.Next(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() && !strings.HasSuffix(expr, "1970-2199/10") {
			t.Errorf("%q never fires after 2024", expr)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct{ expr, field, token string }{
		{"", "", ""}, {"*", "", ""}, {"* * * *", "", ""}, {"* * * * * * * *", "", ""},
		{"60 * * * *", "minute", "60"}, {"-1 * * * *", "minute", ""}, {"x * * * *", "minute", "x"},
		{"1- * * * *", "minute", ""}, {"-5 * * * *", "minute", ""}, {"5-1 * * * *", "minute", "5-1"},
		{"*/0 * * * *", "minute", "*/0"}, {"*/x * * * *", "minute", "*/x"}, {"*/61 * * * *", "minute", "*/61"},
		{"1,,2 * * * *", "minute", "1,,2"}, {"1, * * * *", "minute", "1,"}, {",1 * * * *", "minute", ",1"},
		{"1/2/3 * * * *", "minute", "1/2/3"}, {"1-2-3 * * * *", "minute", ""}, {"? * * * *", "minute", "?"},
		{"L * * * *", "minute", "L"}, {"MON * * * *", "minute", "MON"}, {"99999 * * * *", "minute", "99999"},
		{"* 24 * * *", "hour", "24"}, {"* 25-26 * * *", "hour", "25"}, {"* */25 * * *", "hour", "*/25"},
		{"* W * * *", "hour", "W"}, {"* 1#2 * * *", "hour", "1#2"},
		{"* * 0 * *", "day-of-month", "0"}, {"* * 32 * *", "day-of-month", "32"}, {"* * 10-5 * *", "day-of-month", "10-5"},
		{"* * L-31 * *", "day-of-month", "L-31"}, {"* * L-x * *", "day-of-month", "L-x"}, {"* * 32W * *", "day-of-month", "32W"},
		{"* * 0W * *", "day-of-month", "0W"}, {"* * W * *", "day-of-month", "W"}, {"* * 1-5W * *", "day-of-month", "1-5W"},
		{"* * MON * *", "day-of-month", "MON"}, {"* * 5#1 * *", "day-of-month", "5#1"}, {"* * ?,1 * *", "day-of-month", "?"},
		{"* * * 0 *", "month", "0"}, {"* * * 13 *", "month", "13"}, {"* * * JANUARY *", "month", "JANUARY"},
		{"* * * FOO *", "month", "FOO"}, {"* * * L *", "month", "L"}, {"* * * DEC-JAN *", "month", "DEC-JAN"},
		{"* * * ? *", "month", "?"}, {"* * * MON *", "month", "MON"},
		{"* * * * 8", "day-of-week", "8"}, {"* * * * FUNDAY", "day-of-week", "FUNDAY"}, {"* * * * 5#6", "day-of-week", "5#6"},
		{"* * * * 5#0", "day-of-week", "5#0"}, {"* * * * 8#1", "day-of-week", "8"}, {"* * * * 9L", "day-of-week", "9"},
		{"* * * * FRI-MON", "day-of-week", "FRI-MON"}, {"* * * * JAN", "day-of-week", "JAN"}, {"* * * * 1W", "day-of-week", "1W"},
		{"* * * * ?,1", "day-of-week", "?"}, {"* * * * #3", "day-of-week", ""},
		{"60 * * * * *", "second", "60"}, {"*/0 * * * * *", "second", "*/0"}, {"L * * * * *", "second", "L"},
		{"0 0 0 1 1 * 1969", "year", "1969"}, {"0 0 0 1 1 * 2200", "year", "2200"}, {"0 0 0 1 1 * ?", "year", "?"},
		{"0 0 0 1 1 * 2030-2025", "year", "2030-2025"}, {"0 0 0 1 1 * L", "year", "L"},
		{"0 0 30 2 *", "", ""}, {"0 0 31 4,6,9,11 *", "", ""}, {"0 0 0 29 2 * 2023", "", ""},
		{"@every", "", "@every"}, {"@every 0s", "", "0s"}, {"@every -1m", "", "-1m"}, {"@every soon", "", "soon"},
		{"@sometimes", "", "@sometimes"}, {"@every1h", "", "@every1h"},
	}
	invalid := 0
	for _, tt := range tests {
		_, err := Parse(tt.expr, nil)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("Parse(%q) = %v, want a *ParseError", tt.expr, err)
			continue
		}
		invalid++
		if pe.Field != tt.field || (tt.token != "" && pe.Token != tt.token) {
			t.Errorf("Parse(%q): field %q token %q (%v), want field %q token %q", tt.expr, pe.Field, pe.Token, err, tt.field, tt.token)
		}
		if !strings.HasPrefix(err.Error(), "cron: ") {
			t.Errorf("Parse(%q): %q does not start with \"cron: \"", tt.expr, err)
		}
	}
	if invalid < 60 {
		t.Errorf("only %d invalid expressions tested, want at least 60", invalid)
	}
}

func TestParseAndRuleNeverFires(t *testing.T) {
	// Under AND, "30th of February on a Monday" is doubly impossible, and the
	// 31st that is a Monday exists; a 7-field year makes it exact.
	if _, err := Parse("0 0 0 29 2 MON 2024", &Options{DayRule: DayAnd}); err == nil {
		t.Error("Feb 29 2024 was a Thursday: want never fires")
	}
	if _, err := Parse("0 0 0 29 2 THU 2024", &Options{DayRule: DayAnd}); err != nil {
		t.Errorf("Feb 29 2024 was a Thursday: %v", err)
	}
	if _, err := Parse("0 0 0 29 2 MON 2024", nil); err != nil {
		t.Errorf("under OR, Mondays of February 2024 match: %v", err)
	}
}

func TestParseErrorMessages(t *testing.T) {
	tests := []struct{ expr, want string }{
		{"0 0 32 * *", `cron: day-of-month field: "32" is out of range 1-31`},
		{"61 * * * *", `cron: minute field: "61" is out of range 0-59`},
		{"* * * * FUNDAY", `cron: day-of-week field: "FUNDAY" is not a number or a day name (SUN-SAT)`},
		{"*/0 * * * *", `cron: minute field: "*/0" has a step of 0 (want at least 1)`},
		{"* * * *", `cron: "* * * *" has 4 fields, want 5 (minute hour day-of-month month day-of-week), 6 (seconds first) or 7 (seconds first, year last)`},
		{"0 0 30 2 *", `cron: "0 0 30 2 *" never fires: no date matches its day, month and year fields together`},
		{"@every 0s", `cron: "0s" is not a positive duration`},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.expr, nil); err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q):\n got %v\nwant %s", tt.expr, err, tt.want)
		}
	}
}

func TestOptions(t *testing.T) {
	for _, bad := range []Options{{Gap: 9}, {Overlap: 9}, {DayRule: 9}} {
		if _, err := Parse("* * * * *", &bad); err == nil {
			t.Errorf("Parse with %+v: no error", bad)
		}
	}
	s := MustParse("0 0 * * *", nil)
	if s.Location() != time.UTC || s.Options().Location != time.UTC {
		t.Error("nil options should mean UTC")
	}
	for _, name := range []string{"shift", "skip"} {
		if p, err := ParseGapPolicy(name); err != nil || p.String() != name {
			t.Errorf("gap %q: %v %v", name, p, err)
		}
	}
	for _, name := range []string{"first", "last", "both"} {
		if p, err := ParseOverlapPolicy(name); err != nil || p.String() != name {
			t.Errorf("overlap %q: %v %v", name, p, err)
		}
	}
	for _, name := range []string{"or", "and"} {
		if p, err := ParseDayRule(name); err != nil || p.String() != name {
			t.Errorf("day rule %q: %v %v", name, p, err)
		}
	}
	for _, err := range []error{second(ParseGapPolicy("x")), second(ParseOverlapPolicy("")), second(ParseDayRule("xor"))} {
		if err == nil {
			t.Error("an unknown policy name was accepted")
		}
	}
	if GapPolicy(9).String() != "unknown(9)" {
		t.Error("unknown policies should say so")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("MustParse did not panic")
			}
		}()
		MustParse("bad", nil)
	}()
}

func second[T any](_ T, err error) error { return err }

func TestFixed(t *testing.T) {
	for expr, want := range map[string]bool{
		"30 2 * * *": true, "0,30 2 * * *": true, "0 1-3 * * *": true, "15 30 2 * * *": true, "@daily": true,
		"*/15 * * * *": false, "0 */2 * * *": false, "0 2/3 * * *": false, "@hourly": false, "* 30 2 * * *": false,
		"@every 1h": false,
	} {
		if got := MustParse(expr, nil).Fixed(); got != want {
			t.Errorf("Fixed(%q) = %v, want %v", expr, got, want)
		}
	}
}
