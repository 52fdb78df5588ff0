// Package sundial schedules work for Go programs: "run this function every
// 30 minutes", "run this at 09:00 on the third Friday, Seoul time", "send
// this notification at the moment the user chose".
//
// # Triggers
//
// A [Trigger] computes fire times and nothing else: it is stateless data that
// answers "when is the first fire strictly after t?". The kinds are
//
//   - [CronTrigger]: a cron expression read in a time zone (see package cron
//     for the dialect and the daylight-saving rules);
//   - [IntervalTrigger]: every d of absolute time, anchored at a start
//     instant so fires never drift;
//   - [DateTrigger]: one fire at one instant;
//   - [CalendarTrigger]: every N years, months, weeks or days at a wall-clock
//     time in a zone, with a rule for days a month does not have;
//   - [AndTrigger] and [OrTrigger]: combinations of the above.
//
// Every trigger round-trips through JSON ({"kind": "cron", ...}) without
// loss; [UnmarshalTrigger] validates what it decodes. Every trigger carries
// an optional jitter, the upper bound of a random delay the scheduler adds
// to each fire.
//
// # Errors
//
// Bad input is refused with a [*FieldError] that names the field and the
// problem; it matches [ErrInvalid] with errors.Is.
package sundial
