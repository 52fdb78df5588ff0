package pgstore

import (
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/sundialhq/sundial"
)

// noticeSet gathers the notices of one transaction, coalesced: each kind
// at most once, naming a job only when every notice concerns that one job,
// and carrying the earliest next fire among the jobs that changed. A
// commit of a thousand fires is one notice of each kind, not thousands.
type noticeSet struct {
	kinds uint8 // bit 1<<kind for each kind added
	job   string
	many  bool // the notices concern several jobs, or unnamed ones
	next  time.Time
}

// add records a notice of kind about jobID ("" for several or unknown
// jobs) and, for NoticeJobsChanged, the job's next fire (zero: unknown or
// none).
func (n *noticeSet) add(kind sundial.NoticeKind, jobID string, next time.Time) {
	n.kinds |= 1 << kind
	switch {
	case jobID == "":
		n.many = true
	case n.job == "" && !n.many:
		n.job = jobID
	case n.job != jobID:
		n.many = true
	}
	if kind == sundial.NoticeJobsChanged && !next.IsZero() && (n.next.IsZero() || next.Before(n.next)) {
		n.next = next
	}
}

// merge adds the notices of o.
func (n *noticeSet) merge(o *noticeSet) {
	n.kinds |= o.kinds
	switch {
	case o.many:
		n.many = true
	case o.job != "" && n.job == "" && !n.many:
		n.job = o.job
	case o.job != "" && o.job != n.job:
		n.many = true
	}
	if !o.next.IsZero() && (n.next.IsZero() || o.next.Before(n.next)) {
		n.next = o.next
	}
}

func (n *noticeSet) jobID() string {
	if n.many {
		return ""
	}
	return n.job
}

// kindLetters names the notice kinds in a payload.
var kindLetters = []struct {
	kind   sundial.NoticeKind
	letter byte
}{{sundial.NoticeJobsChanged, 'J'}, {sundial.NoticeRunsCreated, 'R'}, {sundial.NoticeRunFinished, 'F'}}

// list returns the notices, one of each kind, in kind order.
func (n *noticeSet) list() []sundial.Notice {
	var out []sundial.Notice
	for _, k := range kindLetters {
		if n.kinds&(1<<k.kind) != 0 {
			x := sundial.Notice{Kind: k.kind, JobID: n.jobID()}
			if k.kind == sundial.NoticeJobsChanged {
				x.NextFire = n.next
			}
			out = append(out, x)
		}
	}
	return out
}

// payload is the NOTIFY payload of n: the sending Store's origin, the
// kinds' letters, the next fire in nanoseconds ("-" when unknown) and the
// job ID, separated by spaces ("3fa1c2d4e5f60718 JR 1704110400000000000
// job-1"). A job ID is at most 255 bytes, well within NOTIFY's 8000.
func (n *noticeSet) payload(origin string) string {
	var kinds []byte
	for _, k := range kindLetters {
		if n.kinds&(1<<k.kind) != 0 {
			kinds = append(kinds, k.letter)
		}
	}
	next := "-"
	if !n.next.IsZero() {
		next = strconv.FormatInt(ns(n.next), 10)
	}
	return origin + " " + string(kinds) + " " + next + " " + n.jobID()
}

// parsePayload reads a payload written by payload.
func parsePayload(p string) (origin string, n noticeSet, ok bool) {
	f := strings.SplitN(p, " ", 4)
	if len(f) != 4 {
		return "", n, false
	}
	for _, c := range []byte(f[1]) {
		for _, k := range kindLetters {
			if k.letter == c {
				n.kinds |= 1 << k.kind
			}
		}
	}
	if f[2] != "-" {
		v, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return "", n, false
		}
		n.next = fromNs(v)
	}
	n.job, n.many = f[3], f[3] == ""
	return f[0], n, n.kinds != 0
}

// newOrigin returns a random name for a Store's notices.
func newOrigin() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// announce tells of a committed change: at once to this Store's
// subscribers, outside any lock, and through the notifier to the other
// Stores.
func (s *Store) announce(n *noticeSet) {
	if n.kinds == 0 {
		return
	}
	s.lis.deliver(n.list())
	s.later.add(n)
}

// Subscribe calls fn for every notice until the returned function is
// called: at once, on the calling goroutine, after the commit, for
// changes made through this Store, and from the listener's goroutine for
// changes made through any other Store on the schema (LISTEN/NOTIFY,
// sent after the commit). Notices are coalesced per transaction, and
// across transactions on their way to the other Stores. The first subscription (to notices or events) opens the
// listener's connection and waits for it, up to 5s. When the connection
// drops, the listener sends NoticeJobsChanged (a scheduler then polls
// while NoticesLive is false), reconnects with backoff, and once it
// listens again sends NoticeJobsChanged and NoticeRunsCreated, since
// notices sent meanwhile were lost. fn must not block.
func (s *Store) Subscribe(fn func(sundial.Notice)) (unsubscribe func()) {
	return s.lis.subscribe(fn, nil)
}

// NoticesLive reports whether the listener is connected and listening:
// false before the first subscription, and while its connection is down,
// when the scheduler polls instead.
func (s *Store) NoticesLive() bool { return s.lis.live.Load() }
