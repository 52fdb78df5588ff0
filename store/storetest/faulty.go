package storetest

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sundialhq/sundial"
)

// ErrInjected is the error a Faulty store returns for a failure it made up.
var ErrInjected = errors.New("storetest: injected store failure")

// Faulty wraps a Store and makes its calls fail at a chosen rate, to prove
// that a scheduler over a failing store retries and loses nothing. A
// failed write fails one of two ways, at random: before it reaches the
// store (nothing changes: a refused connection), or after the store made
// the change (the answer is lost: a connection that dropped mid-call). A
// failed read fails before. It passes notices through when the wrapped
// store pushes them. Faulty is safe for concurrent use.
type Faulty struct {
	sundial.Store

	mu     sync.Mutex
	rng    *rand.Rand
	rate   float64
	counts map[string]int
}

var _ sundial.Notifier = (*Faulty)(nil)

// NewFaulty wraps s; it fails nothing until SetRate. seed makes the
// failures repeatable.
func NewFaulty(s sundial.Store, seed uint64) *Faulty {
	return &Faulty{Store: s, rng: rand.New(rand.NewPCG(seed, 1)), counts: map[string]int{}}
}

// SetRate sets the chance, from 0 to 1, that a call fails.
func (f *Faulty) SetRate(rate float64) {
	f.mu.Lock()
	f.rate = rate
	f.mu.Unlock()
}

// Injected returns how many failures were injected, by method and way
// ("CommitFires/after").
func (f *Faulty) Injected() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int, len(f.counts))
	for k, v := range f.counts {
		out[k] = v
	}
	return out
}

// fault draws whether a call fails and how: "", "before" or "after".
func (f *Faulty) fault(method string, write bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rate <= 0 || f.rng.Float64() >= f.rate {
		return ""
	}
	way := "before"
	if write && f.rng.IntN(2) == 0 {
		way = "after"
	}
	f.counts[method+"/"+way]++
	return way
}

// write runs a write call under the fault plan.
func write[T any](f *Faulty, method string, call func() (T, error)) (T, error) {
	way := f.fault(method, true)
	if way == "before" {
		var zero T
		return zero, ErrInjected
	}
	out, err := call()
	if way == "after" && err == nil {
		var zero T
		return zero, ErrInjected
	}
	return out, err
}

// Subscribe passes the wrapped store's notices on, if it has any.
func (f *Faulty) Subscribe(fn func(sundial.Notice)) (unsubscribe func()) {
	if n, ok := f.Store.(sundial.Notifier); ok {
		return n.Subscribe(fn)
	}
	return func() {}
}

// NextFireTime fails before, or asks the wrapped store.
func (f *Faulty) NextFireTime(ctx context.Context) (time.Time, error) {
	if f.fault("NextFireTime", false) != "" {
		return time.Time{}, ErrInjected
	}
	return f.Store.NextFireTime(ctx)
}

// ClaimDueJobs may fail before or after claiming.
func (f *Faulty) ClaimDueJobs(ctx context.Context, c sundial.JobClaim) ([]sundial.DueJob, error) {
	return write(f, "ClaimDueJobs", func() ([]sundial.DueJob, error) { return f.Store.ClaimDueJobs(ctx, c) })
}

// CommitFires may fail before or after committing.
func (f *Faulty) CommitFires(ctx context.Context, commits []sundial.FireCommit, now time.Time) ([]sundial.CommitResult, error) {
	return write(f, "CommitFires", func() ([]sundial.CommitResult, error) { return f.Store.CommitFires(ctx, commits, now) })
}

// AddRuns may fail before or after inserting.
func (f *Faulty) AddRuns(ctx context.Context, runs []*sundial.Run) ([]*sundial.Run, error) {
	return write(f, "AddRuns", func() ([]*sundial.Run, error) { return f.Store.AddRuns(ctx, runs) })
}

// ClaimRuns may fail before or after starting runs.
func (f *Faulty) ClaimRuns(ctx context.Context, c sundial.RunClaim) ([]*sundial.Run, error) {
	return write(f, "ClaimRuns", func() ([]*sundial.Run, error) { return f.Store.ClaimRuns(ctx, c) })
}

// FinishRun may fail before or after recording.
func (f *Faulty) FinishRun(ctx context.Context, run, retry *sundial.Run) error {
	_, err := write(f, "FinishRun", func() (struct{}, error) { return struct{}{}, f.Store.FinishRun(ctx, run, retry) })
	return err
}

// Heartbeat may fail before or after recording the beat.
func (f *Faulty) Heartbeat(ctx context.Context, node sundial.NodeInfo, now time.Time) (sundial.Heartbeat, error) {
	return write(f, "Heartbeat", func() (sundial.Heartbeat, error) { return f.Store.Heartbeat(ctx, node, now) })
}

// RecoverRuns may fail before or after recovering.
func (f *Faulty) RecoverRuns(ctx context.Context, now time.Time) (sundial.Recovery, error) {
	return write(f, "RecoverRuns", func() (sundial.Recovery, error) { return f.Store.RecoverRuns(ctx, now) })
}
