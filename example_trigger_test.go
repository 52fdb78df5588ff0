package sundial_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/sundialhq/sundial"
)

// A trigger is data: it computes fire times and round-trips through JSON.
func ExampleCron() {
	t, err := sundial.Cron("30 2 * * *", &sundial.CronOptions{TimeZone: "America/New_York"})
	if err != nil {
		panic(err)
	}
	at := time.Date(2024, 3, 9, 12, 0, 0, 0, time.UTC)
	for range 2 {
		at, _ = t.Next(at)
		fmt.Println(at.Format(time.RFC3339))
	}
	data, _ := json.Marshal(t)
	fmt.Println(string(data))
	back, err := sundial.UnmarshalTrigger(data)
	fmt.Println(back.Kind(), err)
	// Output:
	// 2024-03-10T03:00:00-04:00
	// 2024-03-11T02:30:00-04:00
	// {"kind":"cron","expr":"30 2 * * *","timezone":"America/New_York"}
	// cron <nil>
}

// Every two months on the 31st: months without one fire on their last day,
// and the count always starts again from the anchor date.
func ExampleCalendar() {
	t := sundial.MustCalendar(sundial.CalendarSpec{Months: 2, At: "09:00", StartDate: "2024-07-31", TimeZone: "Europe/Paris"})
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	for range 3 {
		at, _ = t.Next(at)
		fmt.Println(at.Format("2006-01-02 15:04 MST"))
	}
	// Output:
	// 2024-07-31 09:00 CEST
	// 2024-09-30 09:00 CEST
	// 2024-11-30 09:00 CET
}

// Bad input names the field and the problem.
func ExampleUnmarshalTrigger_error() {
	_, err := sundial.UnmarshalTrigger([]byte(`{"kind":"interval","every":"-5m"}`))
	fmt.Println(err)
	// Output:
	// sundial: trigger.every: "-5m" is negative
}
