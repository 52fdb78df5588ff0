package sundial

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"time"
)

// wireEvent is an Event as it travels between nodes.
type wireEvent struct {
	Type      string          `json:"type"`
	Time      time.Time       `json:"time"`
	Node      string          `json:"node,omitempty"`
	JobID     string          `json:"job_id,omitempty"`
	RunID     string          `json:"run_id,omitempty"`
	Scheduled time.Time       `json:"scheduled,omitzero"`
	Attempt   int             `json:"attempt,omitempty"`
	Duration  time.Duration   `json:"duration,omitempty"`
	Err       string          `json:"err,omitempty"`
	Stack     string          `json:"stack,omitempty"`
	Subject   string          `json:"subject,omitempty"`
	Run       *Run            `json:"run,omitempty"`
	Job       json.RawMessage `json:"job,omitempty"`
	// Mask is the event types a node's subscribers want, in a message of
	// type "interest": what the other nodes publish follows it.
	Mask uint64 `json:"mask,omitempty"`
}

// interestType names the message by which a node tells the others which
// event types its subscribers want.
const interestType = "interest"

// interest is one node's advertised subscription.
type interest struct {
	node string
	mask EventType
}

// encodeInterest writes a node's interest as a batch of its own.
func encodeInterest(node string, mask EventType, at time.Time) ([]byte, error) {
	return json.Marshal([]wireEvent{{Type: interestType, Time: at, Node: node, Mask: uint64(mask & EventAll)}})
}

// EncodeEvents writes a batch of events as JSON for an [EventBus]: a
// store sends the bytes as they are and hands them back to DecodeEvents on
// every node.
func EncodeEvents(events []Event) ([]byte, error) {
	out := make([]wireEvent, len(events))
	for i, e := range events {
		if bits.OnesCount64(uint64(e.Type)) != 1 || e.Type&EventAll == 0 {
			return nil, fmt.Errorf("%w: events[%d].type: %d is not one event type", ErrInvalid, i, uint64(e.Type))
		}
		w := wireEvent{Type: e.Type.String(), Time: e.Time, Node: e.Node, JobID: e.JobID, RunID: e.RunID,
			Scheduled: e.Scheduled, Attempt: e.Attempt, Duration: e.Duration, Err: e.Err, Stack: e.Stack,
			Subject: e.Subject, Run: e.Run}
		if e.Job != nil {
			b, err := e.Job.MarshalJSON()
			if err != nil {
				return nil, fmt.Errorf("events[%d].job: %w", i, err)
			}
			w.Job = b
		}
		out[i] = w
	}
	return json.Marshal(out)
}

// DecodeEvents reads a batch written by EncodeEvents. Events of a type
// this version does not know are dropped, so a newer node's events do not
// break an older one's subscribers.
func DecodeEvents(data []byte) ([]Event, error) {
	events, _, err := decodeBatch(data)
	return events, err
}

// decodeBatch reads a batch into its events and its interests.
func decodeBatch(data []byte) ([]Event, []interest, error) {
	var in []wireEvent
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, nil, fmt.Errorf("%w: event batch: %v", ErrInvalid, err)
	}
	out := make([]Event, 0, len(in))
	var interests []interest
	for i, w := range in {
		if w.Type == interestType {
			interests = append(interests, interest{node: w.Node, mask: EventType(w.Mask) & EventAll})
			continue
		}
		t, ok := eventTypeByName[w.Type]
		if !ok {
			continue
		}
		e := Event{Type: t, Time: w.Time, Node: w.Node, JobID: w.JobID, RunID: w.RunID, Scheduled: w.Scheduled,
			Attempt: w.Attempt, Duration: w.Duration, Err: w.Err, Stack: w.Stack, Subject: w.Subject, Run: w.Run}
		if len(w.Job) > 0 {
			j := new(Job)
			if err := j.UnmarshalJSON(w.Job); err != nil {
				return nil, nil, fmt.Errorf("%w: event batch[%d].job: %v", ErrInvalid, i, err)
			}
			e.Job = j
		}
		out = append(out, e)
	}
	return out, interests, nil
}

var eventTypeByName = func() map[string]EventType {
	m := make(map[string]EventType, len(eventNames))
	for i, n := range eventNames {
		m[n] = 1 << i
	}
	return m
}()
