package cron_test

import (
	"fmt"
	"time"

	"github.com/sundialhq/sundial/cron"
)

func ExampleParse() {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	s, err := cron.Parse("0 9 * * MON-FRI", &cron.Options{Location: seoul})
	if err != nil {
		panic(err)
	}
	t := time.Date(2024, 3, 8, 12, 0, 0, 0, seoul) // a Friday
	for range 3 {
		t = s.Next(t)
		fmt.Println(t.Format(time.RFC3339))
	}
	// Output:
	// 2024-03-11T09:00:00+09:00
	// 2024-03-12T09:00:00+09:00
	// 2024-03-13T09:00:00+09:00
}

func ExampleSchedule_Explain() {
	fmt.Println(cron.MustParse("0 9 * * 5#3", nil).Explain())
	fmt.Println(cron.MustParse("*/15 9-17 * * MON-FRI", nil).Explain())
	// Output:
	// At 09:00 on the third Friday of every month
	// Every 15 minutes, during hours 9 through 17, on Monday through Friday
}

func ExampleParseError() {
	_, err := cron.Parse("0 0 32 * *", nil)
	fmt.Println(err)
	// Output:
	// cron: day-of-month field: "32" is out of range 1-31
}

// The clocks in New York skip 02:00-03:00 on 2024-03-10. By default a job
// at 02:30 runs once, at 03:00; GapSkip leaves that day out.
func ExampleGapPolicy() {
	ny, _ := time.LoadLocation("America/New_York")
	from := time.Date(2024, 3, 9, 12, 0, 0, 0, ny)
	for _, gap := range []cron.GapPolicy{cron.GapShift, cron.GapSkip} {
		s := cron.MustParse("30 2 * * *", &cron.Options{Location: ny, Gap: gap})
		next := s.Next(from)
		fmt.Println(gap, next.Format(time.RFC3339), s.DSTNote(next))
	}
	// Output:
	// shift 2024-03-10T03:00:00-04:00 02:30 does not exist on 2024-03-10 (clocks go forward); fires at 03:00 instead
	// skip 2024-03-11T02:30:00-04:00
}

// The clocks in New York repeat 01:00-02:00 on 2024-11-03.
func ExampleOverlapPolicy() {
	ny, _ := time.LoadLocation("America/New_York")
	for _, o := range []cron.OverlapPolicy{cron.OverlapFirst, cron.OverlapLast, cron.OverlapBoth} {
		s := cron.MustParse("30 1 3 11 *", &cron.Options{Location: ny, Overlap: o})
		t := time.Date(2024, 11, 2, 0, 0, 0, 0, ny)
		fmt.Print(o, ":")
		for t = s.Next(t); t.Year() == 2024; t = s.Next(t) {
			fmt.Print(" ", t.Format("15:04 MST"))
		}
		fmt.Println()
	}
	// Output:
	// first: 01:30 EDT
	// last: 01:30 EST
	// both: 01:30 EDT 01:30 EST
}
