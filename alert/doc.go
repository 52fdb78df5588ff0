// Package alert is an opt-in event listener that sends messages to Slack
// incoming webhooks and generic JSON webhooks when scheduled work goes
// wrong:
//
//   - a run fails: the error, and the stack trace of a panic from the
//     panic on (the frames of sundial's own recovery dropped);
//   - a run is slow, reported while it still runs: past its absolute
//     threshold (Job.SlowAfter, else sundial.Config.SlowAfter, through the
//     scheduler's EventRunSlow), or past Config.SlowFactor times the p95 of
//     its job's recent durations, timed on the scheduler's clock from
//     EventRunStarted;
//   - a fire is missed: recorded missed by the scheduler (EventJobMissed),
//     or expected and not started by its time plus Config.Grace — a
//     dead-man's switch. Fires are expected from the runs the scheduler
//     creates (EventJobSubmitted) and, once attached, from each job's
//     NextFire in the job list, so a fire is reported even when no
//     scheduler is running to create its run;
//   - a run is interrupted (its node was lost, the scheduler shut down
//     before it finished, or a newer fire cancelled it);
//   - a node is lost.
//
// Usage:
//
//	a, err := alert.New(alert.Config{
//		Destinations: []alert.Destination{alert.Slack{URL: slackURL}},
//		Clock:        clock, // the scheduler's, if not the system clock
//	})
//	if err != nil { … }
//	a.Attach(sched)      // or sched.Subscribe(alert.Events, a.Listen)
//	defer a.Close(ctx)   // sends what is queued
//
// Listening never blocks the scheduler: messages are queued per destination
// and sent on the Alerter's goroutines, each request bounded by
// Config.Timeout and retried with exponential backoff on 5xx, 429 and
// network errors.
//
// # Rate limit
//
// At most one message per job (and per lost node) goes out per
// Config.RateLimit, one minute by default. Alerts in between are counted;
// when the interval ends, the latest goes out with a summary of the
// others, such as "and 37 more failures since 12:00:01 UTC", so a job
// failing every second sends one message a minute and loses no count.
//
// # Size limits
//
// Each destination has a Limit on the bytes of a message's text: 3,000 for
// Slack (SlackLimit), 64 KiB for a Webhook unless MaxBytes says otherwise.
// A longer text is cut stack trace first, then error, keeping the title,
// the details and the summary, and each cut ends in a marker such as
// "…[truncated 1234 bytes]".
//
// # Clusters
//
// A scheduler's events reach only its own node's listeners, so with many
// nodes each node's Alerter reports the failures, slow runs and
// interruptions of the runs it executes. A fire that started on another
// node is not seen in events: before reporting a fire missed, an attached
// Alerter asks the store whether it started. Every node that polls the job
// list reports a fire that no node started, so set PollInterval negative
// on all nodes but one (or a few) to get one message per missed fire.
package alert
