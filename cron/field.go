package cron

import "strings"

// parseField parses a plain field (second, minute, hour, month) into bits.
func parseField(text string, sp *fieldSpec) (uint64, *ParseError) {
	var bits uint64
	for start := 0; ; {
		end := start
		for end < len(text) && text[end] != ',' {
			end++
		}
		lo, hi, step, err := parseItem(text[start:end], text, sp)
		if err != nil {
			return 0, err
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << v
		}
		if end == len(text) {
			return bits, nil
		}
		start = end + 1
	}
}

// parseItem parses one list item: *, a, a-b, with an optional /step. It
// finds the separators in one pass; items are a few bytes long.
func parseItem(item, field string, sp *fieldSpec) (lo, hi, step int, err *ParseError) {
	if item == "" {
		return 0, 0, 0, fieldErr(sp, field, "has an empty list item")
	}
	dash, slash := -1, -1
	for i := 0; i < len(item); i++ {
		switch item[i] {
		case '-':
			if dash < 0 && slash < 0 {
				dash = i
			}
		case '/':
			if slash < 0 {
				slash = i
			}
		}
	}
	base := item
	step = 1
	if slash >= 0 {
		base = item[:slash]
		if step, err = parseStep(item[slash+1:], item, sp); err != nil {
			return 0, 0, 0, err
		}
	}
	switch {
	case base == "*":
		return sp.min, sp.max, step, nil
	case base == "?":
		return 0, 0, 0, fieldErr(sp, item, `is only allowed as the whole day-of-month or day-of-week field`)
	}
	if dash < 0 || (slash >= 0 && dash > slash) {
		if lo, err = parseValue(base, sp); err != nil {
			return 0, 0, 0, err
		}
		if slash >= 0 {
			return lo, sp.max, step, nil
		}
		return lo, lo, step, nil
	}
	if lo, err = parseValue(base[:dash], sp); err != nil {
		return 0, 0, 0, err
	}
	if hi, err = parseValue(base[dash+1:], sp); err != nil {
		return 0, 0, 0, err
	}
	if hi < lo {
		return 0, 0, 0, fieldErr(sp, base, "is a reversed range (write the smaller value first)")
	}
	return lo, hi, step, nil
}

func parseStep(text, item string, sp *fieldSpec) (int, *ParseError) {
	n, ok := atoi(text)
	switch {
	case !ok:
		return 0, fieldErr(sp, item, "has a step that is not a number")
	case n == 0:
		return 0, fieldErr(sp, item, "has a step of 0 (want at least 1)")
	case n > sp.max-sp.min+1:
		return 0, fieldErr(sp, item, "has a step larger than the field's range "+itoa(sp.min)+"-"+itoa(sp.max))
	}
	return n, nil
}

// parseValue parses a number or, where the field has them, a name.
func parseValue(tok string, sp *fieldSpec) (int, *ParseError) {
	if tok == "" {
		return 0, fieldErr(sp, tok, "is empty (a range or step is missing a value)")
	}
	if n, ok := atoi(tok); ok {
		if n < sp.min || n > sp.max {
			return 0, fieldErr(sp, tok, "is out of range "+itoa(sp.min)+"-"+itoa(sp.max))
		}
		return n, nil
	}
	if len(tok) == 3 {
		for i, name := range sp.names {
			if strings.EqualFold(tok, name) {
				return sp.min + i, nil
			}
		}
	}
	if strings.ContainsAny(tok, "LW#") && sp != &domSpec && sp != &dowSpec {
		return 0, fieldErr(sp, tok, "uses L, W or #, which only day-of-month and day-of-week allow")
	}
	switch {
	case sp.names == nil:
		return 0, fieldErr(sp, tok, "is not a number")
	case sp == &monthSpec:
		return 0, fieldErr(sp, tok, "is not a number or a month name (JAN-DEC)")
	}
	return 0, fieldErr(sp, tok, "is not a number or a day name (SUN-SAT)")
}

// atoi parses a short unsigned decimal number.
func atoi(s string) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func fieldErr(sp *fieldSpec, tok, reason string) *ParseError {
	return &ParseError{Field: sp.name, Token: tok, Reason: reason}
}

// parseDom parses the day-of-month field with Quartz's ?, L, L-n, nW, LW.
func (s *Schedule) parseDom(text string) *ParseError {
	if text == "?" {
		s.dom = 1<<32 - 2 // every day; the field counts as unrestricted
		return nil
	}
	return eachItem(text, s.parseDomItem)
}

// eachItem calls parse for each comma-separated item of a field.
func eachItem(text string, parse func(item, field string) *ParseError) *ParseError {
	for rest := text; ; {
		item, more, found := strings.Cut(rest, ",")
		if err := parse(item, text); err != nil {
			return err
		}
		if !found {
			return nil
		}
		rest = more
	}
}

func (s *Schedule) parseDomItem(item, field string) *ParseError {
	switch {
	case item == "L":
		s.lastOff |= 1
		return nil
	case item == "LW":
		s.lastW = true
		return nil
	case strings.HasPrefix(item, "L-"):
		n, ok := atoi(item[2:])
		if !ok || n > 30 {
			return fieldErr(&domSpec, item, "needs a number of days 0-30 after L-")
		}
		s.lastOff |= 1 << n
		return nil
	case strings.HasSuffix(item, "W"):
		n, ok := atoi(item[:len(item)-1])
		if !ok || n < 1 || n > 31 {
			return fieldErr(&domSpec, item, "needs a day 1-31 before W (the weekday nearest that day)")
		}
		s.nearW |= 1 << n
		return nil
	}
	lo, hi, step, err := parseItem(item, field, &domSpec)
	if err != nil {
		return err
	}
	for v := lo; v <= hi; v += step {
		s.dom |= 1 << v
	}
	return nil
}

// parseDow parses the day-of-week field with Quartz's ?, L, nL, n#k.
func (s *Schedule) parseDow(text string) *ParseError {
	if text == "?" {
		s.dow = 0x7f // every day; the field counts as unrestricted
		return nil
	}
	return eachItem(text, s.parseDowItem)
}

func (s *Schedule) parseDowItem(item, field string) *ParseError {
	if item == "L" {
		s.dow |= 1 << 6 // Quartz: L alone is the last day of the week, Saturday
		return nil
	}
	if day, k, ok := strings.Cut(item, "#"); ok {
		w, err := parseValue(day, &dowSpec)
		if err != nil {
			return err
		}
		n, isNum := atoi(k)
		if !isNum || n < 1 || n > 5 {
			return fieldErr(&dowSpec, item, "needs an occurrence 1-5 after # (as in FRI#3, the third Friday)")
		}
		s.dowNth[w%7] |= 1 << n
		return nil
	}
	if day, ok := strings.CutSuffix(item, "L"); ok && !strings.ContainsAny(day, "-/*") {
		w, err := parseValue(day, &dowSpec)
		if err != nil {
			return err
		}
		s.dowLast |= 1 << (w % 7)
		return nil
	}
	lo, hi, step, err := parseItem(item, field, &dowSpec)
	if err != nil {
		return err
	}
	for v := lo; v <= hi; v += step {
		s.dow |= 1 << (v % 7)
	}
	return nil
}

// parseYears parses the seventh field.
func (s *Schedule) parseYears(text string) *ParseError {
	if text == "*" {
		s.yearLo, s.yearHi = 1, 9999
		return nil
	}
	s.hasYears, s.yearLo, s.yearHi = true, maxYear, minYear
	return eachItem(text, func(item, field string) *ParseError {
		lo, hi, step, err := parseItem(item, field, &yearSpec)
		if err != nil {
			return err
		}
		for v := lo; v <= hi; v += step {
			s.years[(v-minYear)/64] |= 1 << ((v - minYear) % 64)
			s.yearLo, s.yearHi = min(s.yearLo, v), max(s.yearHi, v)
		}
		return nil
	})
}

// yearOK reports whether year y matches the year field.
func (s *Schedule) yearOK(y int) bool {
	if !s.hasYears {
		return y >= 1 && y <= 9999
	}
	if y < minYear || y > maxYear {
		return false
	}
	return s.years[(y-minYear)/64]&(1<<((y-minYear)%64)) != 0
}
