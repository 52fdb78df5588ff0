package sundial

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"
)

// Config configures a Scheduler. The zero value is a complete,
// single-process configuration: memory store, system clock, one pool of 10
// workers named "default". New validates it.
type Config struct {
	// Store keeps jobs and runs. Nil means a new MemoryStore.
	Store Store
	// Clock tells the time and makes timers. Nil means SystemClock.
	Clock Clock
	// Logger receives the scheduler's logs. Nil discards them.
	Logger *slog.Logger
	// NodeID names this process among the nodes sharing the store. Empty
	// means host-pid-random.
	NodeID string
	// Role says what this node does. The SUNDIAL_ROLE environment variable
	// (all, both, scheduler, worker, client), when set, overrides it, so a
	// staging environment can run a service without its batch jobs.
	Role Role
	// Executors sizes the worker pools by name. "default" is 10 unless set
	// here; jobs pick a pool with Job.Executor.
	Executors map[string]int
	// MisfireGrace is how late a fire may start and still run, for jobs
	// that do not set their own. Zero means 1 minute (Quartz's threshold).
	MisfireGrace time.Duration
	// Lookahead lets the schedule loop create runs this long before they
	// are due, so store round trips do not show up as lateness. Zero means
	// 1s. Alone on its store the worker claims runs a Lookahead ahead too;
	// on a store shared by several nodes (a StoreClock) it claims them
	// only ClaimAhead before they are due.
	Lookahead time.Duration
	// ClaimAhead is how long before their Due a worker on a store shared
	// by several nodes claims runs. A claimed run holds its job's
	// MaxInstances slot until it ends, or until the node's heartbeat
	// expires if the node dies first, so a node killed takes with it the
	// fires of the runs it had claimed: a shorter ClaimAhead loses fewer,
	// but a claim slower than it shows as lateness. Zero means 50ms; it
	// must not exceed Lookahead.
	ClaimAhead time.Duration
	// ClaimBatch bounds the jobs claimed per round. Zero means 1,000.
	ClaimBatch int
	// PollInterval bounds how long the loops sleep when the store pushes no
	// notices (or a notice is lost). Zero means 1s.
	PollInterval time.Duration
	// HeartbeatInterval is how often the node heartbeats and recovers the
	// runs of lost nodes; it also looks for them when the store says
	// another node's heartbeat expires. Zero means 2s.
	HeartbeatInterval time.Duration
	// HeartbeatTTL bounds how long a node's runs stay running after the
	// node died: within HeartbeatTTL of its last heartbeat they are
	// interrupted and retried elsewhere. The store counts the node lost
	// half a HeartbeatInterval before the TTL ends (less when the TTL is
	// under one and a half intervals), so recovering its runs happens
	// within the TTL instead of beginning at its end; a node that cannot
	// heartbeat cancels its tasks before that. Zero means 10s; it must
	// exceed HeartbeatInterval.
	HeartbeatTTL time.Duration
	// JobLease is how long a claim on a due job lasts: a schedule round
	// (claim, decide, commit) takes milliseconds, and a node that dies in
	// the middle of one keeps its jobs from every other node until the
	// lease ends. The fires due meanwhile then run late, each one, neither
	// coalesced nor skipped (DueJob.Lapsed). A round slower than the lease
	// wastes its work (the commit is refused) but runs nothing twice. Zero
	// means half the HeartbeatTTL (5s by default), so a node that dies in
	// mid-round holds up its jobs for less time than it holds up its runs.
	JobLease time.Duration
	// SlowAfter raises EventRunSlow for runs taking longer, for jobs that
	// do not set their own. Zero means never.
	SlowAfter time.Duration
	// StackLimit truncates recorded stack traces. Zero means 8 KiB.
	StackLimit int
	// Retention bounds the history of finished runs: the node prunes the
	// store by it every PruneInterval. The zero value prunes nothing (the
	// memory store still bounds itself; see MemoryConfig).
	Retention Retention
	// PruneInterval is how often Retention is applied. Zero means 1 minute.
	PruneInterval time.Duration
	// Rand draws jitter. Nil means a randomly seeded source.
	Rand *rand.Rand

	// SharedEvents are the event types this node may publish to the other
	// nodes when the store is an EventBus (PostgreSQL, Redis), so their
	// subscribers see them with Event.Remote set. A node publishes only
	// the types some other node's subscribers want, so a cluster where
	// nobody listens sends nothing. Zero means every type; narrow it to
	// cut the traffic of a busy cluster with a dashboard.
	SharedEvents EventType
	// LocalEvents keeps events on their node: nothing is published to,
	// or received from, the other nodes sharing the store.
	LocalEvents bool
	// KeepClock runs the scheduler on Clock as it reads. Otherwise, when
	// the store can tell its own time (a StoreClock, shared by several
	// nodes), the scheduler corrects Clock by the store's offset, so nodes
	// whose clocks differ agree on when fires are due and leases end. Set
	// it to drive a shared store from a fake clock in tests.
	KeepClock bool
}

// withDefaults validates c and fills in its defaults. Errors are
// *FieldError naming the Config field.
func (c Config) withDefaults() (Config, error) {
	if role := os.Getenv("SUNDIAL_ROLE"); role != "" {
		r, err := ParseRole(role)
		if err != nil {
			return c, &FieldError{Field: "SUNDIAL_ROLE", Problem: fmt.Sprintf("%q is not a role (want all, scheduler, worker or client)", role)}
		}
		c.Role = r
	}
	if err := c.check(); err != nil {
		return c, err
	}
	if c.Store == nil {
		c.Store = NewMemoryStore(MemoryConfig{})
	}
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.NodeID == "" {
		c.NodeID = defaultNodeID()
	}
	pools := map[string]int{"default": 10}
	for name, n := range c.Executors {
		pools[name] = n
	}
	c.Executors = pools
	setDefault(&c.MisfireGrace, time.Minute)
	setDefault(&c.Lookahead, time.Second)
	setDefault(&c.ClaimAhead, min(sharedClaimAhead, c.Lookahead))
	setDefault(&c.PollInterval, time.Second)
	setDefault(&c.HeartbeatInterval, 2*time.Second)
	setDefault(&c.HeartbeatTTL, 10*time.Second)
	setDefault(&c.JobLease, c.HeartbeatTTL/2)
	setDefault(&c.PruneInterval, time.Minute)
	if c.SharedEvents == 0 {
		c.SharedEvents = EventAll
	}
	if c.ClaimBatch == 0 {
		c.ClaimBatch = 1000
	}
	if c.StackLimit == 0 {
		c.StackLimit = 8 << 10
	}
	if c.Rand == nil {
		c.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	}
	if c.ClaimAhead > c.Lookahead {
		return c, invalid("ClaimAhead", "%v exceeds Lookahead %v", c.ClaimAhead, c.Lookahead)
	}
	if c.HeartbeatTTL <= c.HeartbeatInterval {
		return c, invalid("HeartbeatTTL", "%v must exceed HeartbeatInterval %v", c.HeartbeatTTL, c.HeartbeatInterval)
	}
	return c, nil
}

func (c Config) check() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"MisfireGrace", c.MisfireGrace}, {"Lookahead", c.Lookahead}, {"ClaimAhead", c.ClaimAhead}, {"PollInterval", c.PollInterval},
		{"HeartbeatInterval", c.HeartbeatInterval}, {"HeartbeatTTL", c.HeartbeatTTL}, {"JobLease", c.JobLease}, {"SlowAfter", c.SlowAfter},
		{"PruneInterval", c.PruneInterval}, {"Retention.MaxAge", c.Retention.MaxAge}} {
		if d.v < 0 {
			return invalid(d.name, "%v is negative", d.v)
		}
	}
	switch {
	case c.Role > RoleClient:
		return invalid("Role", "unknown role %d", c.Role)
	case c.ClaimBatch < 0:
		return invalid("ClaimBatch", "%d is negative", c.ClaimBatch)
	case c.StackLimit < 0:
		return invalid("StackLimit", "%d is negative", c.StackLimit)
	case c.SharedEvents&^EventAll != 0:
		return invalid("SharedEvents", "%#x has bits that are no event type", uint64(c.SharedEvents))
	case c.Retention.KeepPerJob < 0:
		return invalid("Retention.KeepPerJob", "%d is negative", c.Retention.KeepPerJob)
	}
	for name, n := range c.Executors {
		if name == "" || n < 1 {
			return invalid("Executors", "pool %q has size %d; want a name and a size of at least 1", name, n)
		}
	}
	return nil
}

func setDefault(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

func defaultNodeID() string {
	host, _ := os.Hostname()
	var b [3]byte
	_, _ = crand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}
