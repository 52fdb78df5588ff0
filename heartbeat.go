package sundial

import "context"

// heartbeatLoop heartbeats and recovers lost nodes' runs until ctx is done.
func (s *Scheduler) heartbeatLoop(ctx context.Context) {
	for {
		s.sleep(ctx, s.cfg.HeartbeatInterval, nil)
		if ctx.Err() != nil {
			return
		}
		if err := s.heartbeat(ctx); err != nil {
			s.log.Warn("heartbeat_failed", "err", err)
			continue
		}
		s.recoverRuns(ctx)
	}
}

// heartbeat tells the store this node lives and which runs it executes,
// and cancels the runs the store says to. When heartbeats have failed for
// so long that the store may soon count the node lost, it cancels every
// running task first, so a partitioned node stops before its work passes
// to another.
func (s *Scheduler) heartbeat(ctx context.Context) error {
	now := s.clock.Now()
	hb, err := s.store.Heartbeat(ctx, NodeInfo{ID: s.cfg.NodeID, Role: s.cfg.Role, Started: s.started,
		TTL: s.cfg.HeartbeatTTL, Running: s.worker.runningIDs()}, now)
	s.mu.Lock()
	last := s.lastBeat
	if err == nil {
		s.lastBeat = now
	}
	s.mu.Unlock()
	if err != nil {
		if !last.IsZero() && now.Sub(last) >= s.cfg.HeartbeatTTL-s.cfg.HeartbeatInterval {
			s.worker.cancelAll(errLostStore)
		}
		return err
	}
	for _, id := range hb.Cancel {
		s.worker.cancelRun(id, errCancelled)
	}
	return nil
}

// recoverRuns interrupts the runs of lost nodes and reports what it did.
func (s *Scheduler) recoverRuns(ctx context.Context) {
	rec, err := s.store.RecoverRuns(ctx, s.clock.Now())
	if err != nil {
		s.log.Warn("recover_runs_failed", "err", err)
		return
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
	if len(rec.Retries) > 0 {
		wake(s.wakeWorker)
	}
}
