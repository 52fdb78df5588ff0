package cron

import "strconv"

// ParseError reports why an expression was refused: the field, the token
// within it and the reason. Field is "" for problems with the whole
// expression (the number of fields, an expression that never fires).
type ParseError struct {
	Expr   string // the whole expression
	Field  string // "second", "minute", "hour", "day-of-month", "month", "day-of-week", "year", or ""
	Token  string // the offending token
	Reason string // what is wrong with it
}

// Error returns, for example,
// `cron: day-of-month field: "32" is out of range 1-31`.
func (e *ParseError) Error() string {
	if e.Field == "" {
		if e.Token == "" {
			return "cron: " + strconv.Quote(e.Expr) + " " + e.Reason
		}
		return "cron: " + strconv.Quote(e.Token) + " " + e.Reason
	}
	return "cron: " + e.Field + " field: " + strconv.Quote(e.Token) + " " + e.Reason
}
