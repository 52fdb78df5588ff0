// Package sundial schedules work for Go programs: "run this function every
// 30 minutes", "run this at 09:00 on the third Friday, Seoul time", "send
// this notification at the moment the user chose".
//
// # Scheduler
//
// A [Scheduler] runs jobs: a registered task ([Scheduler.Handle],
// [HandleFunc] for typed JSON arguments), a trigger and options ([Job]).
// Declare jobs in code with [Scheduler.Schedule] (the ID defaults to the
// function's name and a restart replaces rather than duplicates), or add,
// update, pause, remove and run them at any time. [Scheduler.Start] runs
// two loops over a [Store]: the schedule loop turns due fires into runs,
// atomically with advancing each job's next fire, and the worker loop runs
// them in bounded pools ([Scheduler.AddExecutor]). [Scheduler.Shutdown]
// lets running tasks finish, then cuts the rest short and says which.
// Every fire ends as exactly one record: a run, or a missed or skipped
// record saying why (misfire grace, coalescing, max instances).
//
// # Stores
//
// The [MemoryStore] is the default. store/sqlitestore keeps jobs and
// history in a file, for one machine and several processes on it;
// store/pgstore and store/redisstore are shared by the replicas of a
// service, each fire running once across them. Every store passes
// store/storetest's suite. A store may implement [Notifier] (changes wake
// the loops at once), [RunFinisher] (run ends written in batches),
// [StoreClock] (the scheduler then runs on the store's clock, corrected
// at every heartbeat, so replicas whose clocks differ agree) and
// [EventBus] (events reach every node).
//
// # Events
//
// [Scheduler.Subscribe] delivers [Event] values of the types in a bitmask,
// off the scheduler's locks: a listener may call the scheduler. On a store
// that is an [EventBus], a subscriber also receives the other nodes'
// events, marked [Event].Remote (Config.SharedEvents and LocalEvents
// narrow this). Package alert turns them into Slack and webhook messages.
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
