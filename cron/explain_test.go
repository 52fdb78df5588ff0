package cron

import (
	"testing"
	"time"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		expr string
		opts Options
		want string
	}{
		{"0 9 * * 5#3", Options{}, "At 09:00 on the third Friday of every month"},
		{"*/5 * * * *", Options{}, "Every 5 minutes"},
		{"* * * * *", Options{}, "Every minute"},
		{"* * * * * *", Options{}, "Every second"},
		{"*/10 * * * * *", Options{}, "Every 10 seconds"},
		{"30 2 * * 1-5", Options{}, "At 02:30 on Monday through Friday"},
		{"0 0 29 2 *", Options{}, "At 00:00 on day 29 of February"},
		{"0 9-17 * * MON-FRI", Options{}, "At minute 0 past hours 9 through 17, on Monday through Friday"},
		{"0 0 L * *", Options{}, "At 00:00 on the last day of every month"},
		{"0 0 L-3 * *", Options{}, "At 00:00 on the day 3 before the last day of every month"},
		{"0 0 15W * *", Options{}, "At 00:00 on the weekday nearest day 15 of every month"},
		{"0 0 LW * *", Options{}, "At 00:00 on the last weekday of every month"},
		{"0 0 * * 5L", Options{}, "At 00:00 on the last Friday of every month"},
		{"0 0 1,15 * *", Options{}, "At 00:00 on days 1 and 15 of every month"},
		{"0 12 * * SUN", Options{}, "At 12:00 on Sunday"},
		{"0 30 9 * * *", Options{}, "At 09:30 every day"},
		{"0 8,12,18 * * *", Options{}, "At 08:00, 12:00 and 18:00 every day"},
		{"5,35 9 * * *", Options{}, "At 09:05 and 09:35 every day"},
		{"0 0 * JAN,JUL *", Options{}, "At 00:00 every day in January and July"},
		{"0 0 1 3-5 *", Options{}, "At 00:00 on day 1 of the month, in March through May"},
		{"0 0 13 * 5", Options{}, "At 00:00 on day 13 of the month or on Friday"},
		{"0 0 13 * 5", Options{DayRule: DayAnd}, "At 00:00 on day 13 of the month if it is Friday"},
		{"0 0 0 1 1 * 2025-2027", Options{}, "At 00:00 on day 1 of January, in 2025 through 2027"},
		{"@every 90s", Options{}, "Every 1m30s"},
		{"@hourly", Options{}, "At minute 0 past every hour, every day"},
		{"15 */2 * * *", Options{}, "At minute 15 past every 2 hours, every day"},
		{"0,30 * * * *", Options{}, "At minutes 0 and 30 past every hour, every day"},
		{"30 * 9-17 * * *", Options{}, "At second 30, every minute, during hours 9 through 17, every day"},
	}
	for _, tt := range tests {
		opts := tt.opts
		if got := MustParse(tt.expr, &opts).Explain(); got != tt.want {
			t.Errorf("Explain(%q):\n got %q\nwant %q", tt.expr, got, tt.want)
		}
	}
}

func TestDSTNote(t *testing.T) {
	ny := mustLoad(t, "America/New_York")
	lh := mustLoad(t, "Australia/Lord_Howe")
	tests := []struct {
		expr string
		opts Options
		from time.Time
		want string
	}{
		{"30 2 * * *", Options{Location: ny}, time.Date(2024, 3, 9, 12, 0, 0, 0, ny),
			"02:30 does not exist on 2024-03-10 (clocks go forward); fires at 03:00 instead"},
		{"30 1 * * *", Options{Location: ny}, time.Date(2024, 11, 2, 12, 0, 0, 0, ny),
			"01:30 happens twice on 2024-11-03 (clocks go back); this is the first of them, and the only one that fires"},
		{"30 1 * * *", Options{Location: ny, Overlap: OverlapLast}, time.Date(2024, 11, 2, 12, 0, 0, 0, ny),
			"01:30 happens twice on 2024-11-03 (clocks go back); this is the second of them, and the only one that fires"},
		{"*/30 * * * *", Options{Location: ny}, time.Date(2024, 11, 3, 1, 10, 0, 0, ny),
			"01:30 happens twice on 2024-11-03 (clocks go back); this is the first of them, and both fire"},
		{"15 2 * * *", Options{Location: lh}, time.Date(2024, 10, 5, 12, 0, 0, 0, lh),
			"02:15 does not exist on 2024-10-06 (clocks go forward); fires at 02:30 instead"},
		{"0 9 * * *", Options{Location: ny}, time.Date(2024, 6, 1, 0, 0, 0, 0, ny), ""},
		{"0 9 * * *", Options{}, time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC), ""},
	}
	for _, tt := range tests {
		opts := tt.opts
		s := MustParse(tt.expr, &opts)
		fire := s.Next(tt.from)
		if got := s.DSTNote(fire); got != tt.want {
			t.Errorf("%q at %s:\n got %q\nwant %q", tt.expr, fire, got, tt.want)
		}
	}
}
