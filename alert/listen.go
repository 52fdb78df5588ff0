package alert

import (
	"fmt"

	"github.com/sundialhq/sundial"
)

// Events are the event types Listen uses: subscribe with
// s.Subscribe(alert.Events, a.Listen), or call Attach.
const Events = sundial.EventJobAdded | sundial.EventJobModified | sundial.EventJobRemoved |
	sundial.EventAllJobsRemoved | sundial.EventJobSubmitted | sundial.EventJobExecuted |
	sundial.EventJobError | sundial.EventJobMissed | sundial.EventJobMaxInstances |
	sundial.EventJobSkipped | sundial.EventRunStarted | sundial.EventRunRetrying |
	sundial.EventRunInterrupted | sundial.EventRunSlow | sundial.EventNodeLost

// Listen takes one event from a scheduler. It never blocks on the network:
// messages are queued and sent on the Alerter's own goroutines. Events
// after Close are ignored. An event from another node (Event.Remote, from
// a store that shares events) updates what the Alerter knows of its job,
// so the dead-man's switch sees runs started elsewhere, but sends nothing:
// the node where a run failed, was slow or was interrupted alerts for it.
func (a *Alerter) Listen(e sundial.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return
	}
	a.handleLocked(e)
}

func (a *Alerter) handleLocked(e sundial.Event) {
	switch e.Type {
	case sundial.EventJobError:
		a.ranLocked(e)
		if !e.Remote {
			a.alertLocked(failedMessage(e))
		}
	case sundial.EventJobExecuted:
		a.ranLocked(e)
	case sundial.EventRunInterrupted:
		a.endedLocked(e.RunID)
		if !e.Remote && (e.Run == nil || !e.Run.Started.IsZero()) { // one that never started is simply run again
			a.alertLocked(interruptedMessage(e))
		}
	case sundial.EventRunStarted:
		a.startedLocked(e)
	case sundial.EventRunSlow:
		if !e.Remote {
			a.slowEventLocked(e)
		}
	case sundial.EventJobSubmitted, sundial.EventRunRetrying:
		a.submittedLocked(e)
	case sundial.EventJobMissed:
		a.missedEventLocked(e)
	case sundial.EventJobSkipped, sundial.EventJobMaxInstances:
		a.accountedLocked(e.JobID, e.Scheduled)
	case sundial.EventNodeLost:
		if !e.Remote {
			a.alertLocked(nodeLostMessage(e))
		}
	case sundial.EventJobAdded, sundial.EventJobModified:
		a.jobLocked(e.Job, true)
	case sundial.EventJobRemoved:
		a.jobRemovedLocked(e.JobID)
	case sundial.EventAllJobsRemoved:
		a.allJobsRemovedLocked()
	}
}

// runMessage fills in what every message about a run carries.
func runMessage(k Kind, e sundial.Event) Message {
	m := Message{Kind: k, JobID: e.JobID, RunID: e.RunID, Node: e.Node, Attempt: e.Attempt,
		Scheduled: e.Scheduled, Time: e.Time}
	if e.Run != nil && e.Run.Node != "" {
		m.Node = e.Run.Node
	}
	return m
}

func failedMessage(e sundial.Event) Message {
	m := runMessage(KindFailed, e)
	m.Title = "Job " + e.JobID + " failed"
	m.Err, m.Stack, m.Duration = e.Err, trimStack(e.Stack), e.Duration
	if e.Duration > 0 {
		m.Detail = fmt.Sprintf("it ran for %v", e.Duration)
	}
	return m
}

func interruptedMessage(e sundial.Event) Message {
	m := runMessage(KindInterrupted, e)
	reason := e.Err
	if e.Run != nil && e.Run.Reason != "" {
		reason = e.Run.Reason
	}
	m.Title = "Job " + e.JobID + " was interrupted"
	if reason != "" {
		m.Title += " (" + reason + ")"
	}
	if e.Err != reason {
		m.Err = e.Err
	}
	m.Detail = "it is run again if its retry policy allows"
	return m
}

func nodeLostMessage(e sundial.Event) Message {
	return Message{Kind: KindNodeLost, Node: e.Subject, Time: e.Time,
		Title:  "Node " + e.Subject + " was lost",
		Detail: fmt.Sprintf("it stopped heartbeating (noticed by node %s); its running runs are interrupted", e.Node)}
}
