package alert

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// outbox is one destination's queue, served by its own goroutine so a slow
// destination delays no other.
type outbox struct {
	dest  Destination
	queue chan Message
}

// enqueueLocked queues m for every destination, dropping it (and logging
// so) where a queue is full.
func (a *Alerter) enqueueLocked(m Message) {
	for _, o := range a.outboxes {
		select {
		case o.queue <- m:
		default:
			a.log.Warn("alert_queue_full", "kind", m.Kind, "job", m.JobID,
				"destination", destName(o.dest), "queue_size", a.cfg.QueueSize)
		}
	}
}

// send delivers an outbox's messages until Close closes its queue.
func (a *Alerter) send(o *outbox) {
	for m := range o.queue {
		if a.sendCtx.Err() != nil {
			a.unsent.Add(1)
			continue
		}
		err := a.deliver(o.dest, fit(m, o.dest.Limit()))
		switch {
		case err == nil:
		case a.sendCtx.Err() != nil:
			a.unsent.Add(1)
		default:
			a.log.Error("alert_not_sent", "kind", m.Kind, "job", m.JobID,
				"destination", destName(o.dest), "err", err)
		}
	}
}

// deliver sends m, retrying temporary failures with backoff, each attempt
// bounded by the Timeout.
func (a *Alerter) deliver(d Destination, m Message) error {
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(a.sendCtx, a.cfg.Timeout)
		err := d.Send(ctx, m)
		cancel()
		if err == nil {
			return nil
		}
		wait, again := a.cfg.Retry.Delay(attempt + 1)
		if !again || !retryable(err) || a.sendCtx.Err() != nil {
			return fmt.Errorf("attempt %d: %w", attempt, err)
		}
		var he *HTTPError
		if errors.As(err, &he) && he.RetryAfter > wait {
			wait = min(he.RetryAfter, a.cfg.Retry.MaxBackoff)
		}
		if !sleep(a.sendCtx, wait) {
			return fmt.Errorf("attempt %d: %w", attempt, err)
		}
	}
}

// retryable reports whether a failed Send may succeed if tried again: an
// *HTTPError with a temporary status, or any other error (a timeout, a
// network error).
func retryable(err error) bool {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Temporary()
	}
	return true
}

// sleep waits d in real time; it reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func destName(d Destination) string {
	switch d.(type) {
	case Slack, *Slack:
		return "slack"
	case Webhook, *Webhook:
		return "webhook"
	}
	return fmt.Sprintf("%T", d)
}
