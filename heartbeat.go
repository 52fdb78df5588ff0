package sundial

import (
	"context"
	"time"
)

// heartbeatLoop heartbeats and recovers lost nodes' runs until ctx is
// done. Besides its own heartbeats, it wakes when the store says another
// node's heartbeat expires, so a dead node's runs are recovered one TTL
// after its last heartbeat, not up to a HeartbeatInterval later.
func (s *Scheduler) heartbeatLoop(ctx context.Context) {
	var pruned, peer time.Time
	beat := s.clock.Now().Add(s.cfg.HeartbeatInterval)
	for {
		at := beat
		if !peer.IsZero() && peer.Before(at) {
			at = peer
		}
		s.sleepUntil(ctx, at, nil)
		if ctx.Err() != nil {
			return
		}
		now := s.clock.Now()
		if now.Before(beat) { // a peer's heartbeat expired, by this node's clock
			peer = time.Time{}
			if s.recoverRuns(ctx) == 0 {
				// Not yet by the store's clock (this node's reading of it
				// is off by up to half a round trip), or another node
				// recovered it: look again shortly, until the next beat.
				peer = s.peerCheck(now)
			}
			continue
		}
		beat = now.Add(s.cfg.HeartbeatInterval)
		if err := s.syncClock(ctx, 1); err != nil {
			s.log.Warn("store_clock_failed", "err", err)
		}
		expiry, err := s.heartbeat(ctx)
		if err != nil {
			s.log.Warn("heartbeat_failed", "err", err)
			continue
		}
		s.recoverRuns(ctx)
		peer = s.peerCheck(expiry)
		if now := s.clock.Now(); s.cfg.Retention != (Retention{}) && now.Sub(pruned) >= s.cfg.PruneInterval {
			pruned = now
			s.prune(ctx, now)
		}
	}
}

// peerCheck returns when to look for lost nodes given the earliest
// expiry of another node's heartbeat: just after it, but no sooner than
// a tenth of a HeartbeatInterval from now, so a peer that expired by this
// node's clock but not yet by the store's is looked at again shortly
// rather than in a busy loop. Zero means no look before the next beat.
func (s *Scheduler) peerCheck(expiry time.Time) time.Time {
	if expiry.IsZero() {
		return expiry
	}
	at, soonest := expiry.Add(time.Millisecond), s.clock.Now().Add(s.cfg.HeartbeatInterval/10)
	if at.Before(soonest) {
		return soonest
	}
	return at
}

// prune applies Config.Retention to the store's history.
func (s *Scheduler) prune(ctx context.Context, now time.Time) {
	n, err := s.store.PruneRuns(ctx, s.cfg.Retention, now)
	if err != nil {
		s.log.Warn("prune_runs_failed", "err", err)
		return
	}
	if n > 0 {
		s.log.Info("runs_pruned", "count", n)
	}
}

// lostAfter is how long after its last heartbeat the store counts a node
// lost: HeartbeatTTL less a margin for the recovery that follows (another
// node wakes at the expiry, interrupts the runs, and a worker claims their
// retries), so a dead node's runs are retried within the TTL. The margin
// is half a HeartbeatInterval, or less where the TTL is under one and a
// half intervals, so a live node still heartbeats before its expiry.
func (c Config) lostAfter() time.Duration {
	return c.HeartbeatTTL - min(c.HeartbeatInterval, c.HeartbeatTTL-c.HeartbeatInterval)/2
}

// heartbeat tells the store this node lives and which runs it executes,
// and cancels the runs the store says to. When heartbeats have failed for
// so long that the store may soon count the node lost, it cancels every
// running task first, so a partitioned node stops before its work passes
// to another.
func (s *Scheduler) heartbeat(ctx context.Context) (peerExpiry time.Time, err error) {
	now := s.clock.Now()
	lost := s.cfg.lostAfter()
	hb, err := s.store.Heartbeat(ctx, NodeInfo{ID: s.cfg.NodeID, Role: s.cfg.Role, Started: s.started,
		TTL: lost, Running: s.worker.runningIDs()}, now)
	s.mu.Lock()
	last := s.lastBeat
	if err == nil {
		s.lastBeat = now
	}
	s.mu.Unlock()
	if err != nil {
		if !last.IsZero() && now.Sub(last) >= lost-s.cfg.HeartbeatInterval { // the next try may come too late
			s.worker.cancelAll(errLostStore)
		}
		return time.Time{}, err
	}
	for _, id := range hb.Cancel {
		s.worker.cancelRun(id, errCancelled)
	}
	if now.Sub(s.orphansSeen) >= s.cfg.HeartbeatTTL { // an orphan waits a TTL anyway
		s.orphansSeen = now
		s.releaseOrphans(ctx, now)
	}
	return hb.PeerExpiry, nil
}

// releaseOrphans gives back the runs the store counts as running on this
// node that the node neither holds nor awaits from a failed claim (the
// worker adopts those on its next claim, worker_adopt.go): runs of a claim
// made before the node restarted, or whose failure the worker could not
// see. Each is recorded interrupted, never started, and requeued; without
// this they would hold their job's instance slots forever. A claim
// younger than the heartbeat TTL is left alone, as its answer may still be
// on the way.
func (s *Scheduler) releaseOrphans(ctx context.Context, now time.Time) {
	if s.cfg.Role != RoleAll && s.cfg.Role != RoleWorker {
		return
	}
	var orphans []*Run
	// Claimed at least HeartbeatTTL ago: a claim exactly that old is
	// included, as the store's StartedBefore excludes its bound.
	claimed := now.Add(-s.cfg.HeartbeatTTL).Add(time.Nanosecond)
	if err := eachRunning(ctx, s.store, RunFilter{Node: s.cfg.NodeID, StartedBefore: claimed}, func(r *Run) {
		orphans = append(orphans, r)
	}); err != nil {
		s.log.Warn("list_running_failed", "err", err)
	}
	for _, r := range orphans {
		if s.worker.orphan(r) { // asked at the last moment: the worker may have taken it since
			s.releaseOrphan(r, now)
		}
	}
}

func (s *Scheduler) releaseOrphan(r *Run, now time.Time) {
	claimed := r.Started
	r.State, r.Reason, r.Started, r.Finished = RunInterrupted, ReasonClaimLost, time.Time{}, now
	retry := requeue(r, now)
	if err := s.store.FinishRun(context.Background(), r, retry); err != nil {
		s.log.Warn("release_orphan_failed", "run", r.ID, "err", err)
		return
	}
	s.log.Warn("orphan_released", "run", r.ID, "job", r.JobID, "claimed", claimed)
	s.emit(Event{Type: EventRunInterrupted, JobID: r.JobID, RunID: r.ID, Scheduled: r.Scheduled, Attempt: r.Attempt, Err: r.Reason, Run: r})
	s.emit(Event{Type: EventRunRetrying, JobID: retry.JobID, RunID: retry.ID, Scheduled: retry.Scheduled, Attempt: retry.Attempt, Run: retry})
	s.worker.created(retry)
}

// recoverRuns interrupts the runs of lost nodes, reports what it did, and
// returns how many nodes it found lost.
func (s *Scheduler) recoverRuns(ctx context.Context) (lost int) {
	rec, err := s.store.RecoverRuns(ctx, s.clock.Now())
	if err != nil {
		s.log.Warn("recover_runs_failed", "err", err)
		return 0
	}
	for _, node := range rec.LostNodes {
		s.log.Warn("node_lost", "node", node)
		s.emit(Event{Type: EventNodeLost, Subject: node})
	}
	for _, r := range rec.Interrupted {
		s.emit(Event{Type: EventRunInterrupted, JobID: r.JobID, RunID: r.ID, Scheduled: r.Scheduled, Attempt: r.Attempt, Err: r.Reason, Run: r})
	}
	for _, r := range rec.Retries {
		s.emit(Event{Type: EventRunRetrying, JobID: r.JobID, RunID: r.ID, Scheduled: r.Scheduled, Attempt: r.Attempt, Run: r})
	}
	s.worker.created(rec.Retries...)
	return len(rec.LostNodes)
}
