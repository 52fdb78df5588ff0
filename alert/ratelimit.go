package alert

import "time"

// window is one job's (or node's) rate-limit interval: after a message,
// none goes until next; the alerts meanwhile are counted, and the latest
// is sent when the interval ends, carrying the count of the others.
type window struct {
	next   time.Time
	latest *Message     // the latest alert held back
	counts map[Kind]int // alerts held back, by kind, the latest included
	since  time.Time    // when the first was held back
	due    *due         // at next: flush or forget the window
}

// limitKey groups the alerts that share a rate limit.
func limitKey(m *Message) string {
	if m.JobID == "" {
		return "node " + m.Node
	}
	return "job " + m.JobID
}

// alertLocked sends m unless its kind or job is muted, or its job's rate
// limit holds it back.
func (a *Alerter) alertLocked(m Message) {
	rules := a.cfg.rules(m.JobID)
	if rules.Mute || (a.kinds != nil && !a.kinds[m.Kind]) {
		return
	}
	if m.Time.IsZero() {
		m.Time = a.clock.Now()
	}
	if rules.RateLimit < 0 {
		a.enqueueLocked(m)
		return
	}
	now := a.clock.Now()
	key := limitKey(&m)
	w := a.windows[key]
	if w == nil {
		w = &window{}
		a.windows[key] = w
	}
	if w.due != nil && now.Before(w.next) {
		w.hold(m)
		return
	}
	if w.latest != nil { // the window ended; its timer has not run yet
		m.Suppressed, m.Since = w.counts, w.since
		w.latest, w.counts = nil, nil
	}
	a.cancelLocked(w.due)
	a.openLocked(key, w, now.Add(rules.RateLimit))
	a.enqueueLocked(m)
}

// hold counts an alert held back by the window.
func (w *window) hold(m Message) {
	if w.latest == nil {
		w.counts, w.since = map[Kind]int{}, m.Time
	}
	w.counts[m.Kind]++
	w.latest = &m
}

// openLocked starts a window that ends at next.
func (a *Alerter) openLocked(key string, w *window, next time.Time) {
	w.next = next
	w.due = a.scheduleLocked(&due{at: next, kind: dueWindow, key: key})
}

// windowDue ends a window: it sends the latest alert held back, with the
// count of the others, and opens the next window; a window that held
// nothing back is forgotten.
func (a *Alerter) windowDue(d *due) {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := a.windows[d.key]
	if w == nil || w.due != d {
		return
	}
	if w.latest == nil {
		delete(a.windows, d.key)
		return
	}
	m := a.summaryLocked(w)
	a.openLocked(d.key, w, a.clock.Now().Add(a.cfg.rules(m.JobID).RateLimit))
	a.enqueueLocked(m)
}

// summaryLocked returns the latest alert a window held back, carrying the
// count of the others, and empties the window.
func (a *Alerter) summaryLocked(w *window) Message {
	m := *w.latest
	w.counts[m.Kind]--
	for k, n := range w.counts {
		if n == 0 {
			delete(w.counts, k)
		}
	}
	if len(w.counts) > 0 {
		m.Suppressed, m.Since = w.counts, w.since
	}
	w.latest, w.counts = nil, nil
	return m
}

// flushWindowsLocked sends what every window holds back, at Close.
func (a *Alerter) flushWindowsLocked() {
	for key, w := range a.windows {
		if w.latest != nil {
			a.enqueueLocked(a.summaryLocked(w))
		}
		a.cancelLocked(w.due)
		delete(a.windows, key)
	}
}
