package clusterbench

import (
	"context"
	"time"

	"github.com/go-co-op/gocron/v2"
	"github.com/redis/go-redis/v9"
)

// gocron v2 on every replica, each running every job: with a Redis lock
// per fire (gocron.WithDistributedLocker, the common pattern), or with a
// leader elected on a Redis lease (gocron.WithDistributedElector), whose
// replica alone runs the fires. Jobs are DurationJob(every) with
// WithStartAt(WithStartDateTime(first)) and WithName(JobID(i)), which is
// also the lock key. gocron does not tell a task its scheduled time: the
// task takes the latest slot at or before its start (2 ms of slack), so a
// start an interval or more late is counted at a later slot.
var (
	gocronLockLib = Lib{
		Name:     "gocron+lock",
		Needs:    []string{"redis"},
		Teardown: deleteKeys,
		NewReplica: func(ctx context.Context, env *Env, node string, rec *Recorder) (Replica, error) {
			return newGocronReplica(env, node, rec, false)
		},
	}
	gocronElectorLib = Lib{
		Name:       "gocron+elector",
		Needs:      []string{"redis"},
		Leader:     true,
		Teardown:   deleteKeys,
		LeaderNode: gocronLeader,
		NewReplica: func(ctx context.Context, env *Env, node string, rec *Recorder) (Replica, error) {
			return newGocronReplica(env, node, rec, true)
		},
	}
)

type gocronReplica struct {
	s     gocron.Scheduler
	rdb   *redis.Client
	lease *redisLease
}

func newGocronReplica(env *Env, node string, rec *Recorder, elect bool) (Replica, error) {
	rdb, err := redisClient(env)
	if err != nil {
		return nil, err
	}
	ttl := or(env.Options.LockTTL, 5*time.Second)
	r := &gocronReplica{rdb: rdb}
	var opt gocron.SchedulerOption
	if elect {
		r.lease = &redisLease{rdb: rdb, key: env.Prefix + "leader", node: node, ttl: ttl, renew: ttl / 5}
		opt = gocron.WithDistributedElector(r.lease)
	} else {
		opt = gocron.WithDistributedLocker(&redisLocker{rdb: rdb, prefix: env.Prefix + "lock:", ttl: ttl})
	}
	if r.s, err = gocron.NewScheduler(opt); err != nil {
		rdb.Close()
		return nil, err
	}
	for i := range env.Jobs {
		first := env.First(i)
		task := gocron.NewTask(func() { rec.Record(i, slotAtOrBefore(first, env.Every, time.Now()), 0) })
		_, err := r.s.NewJob(gocron.DurationJob(env.Every), task, gocron.WithName(JobID(i)),
			gocron.WithStartAt(gocron.WithStartDateTime(first)))
		if err != nil {
			_ = r.s.Shutdown()
			rdb.Close()
			return nil, err
		}
	}
	return r, nil
}

// slotAtOrBefore is the latest of first, first+every, ... at or before
// t plus 2 ms; first when t is earlier.
func slotAtOrBefore(first time.Time, every time.Duration, t time.Time) time.Time {
	d := t.Sub(first) + 2*time.Millisecond
	if d < 0 {
		return first
	}
	return first.Add(d / every * every)
}

func (r *gocronReplica) Start(context.Context) error {
	if r.lease != nil {
		r.lease.start()
	}
	r.s.Start()
	return nil
}

func (r *gocronReplica) Stop(ctx context.Context) error {
	err := r.s.Shutdown()
	if r.lease != nil {
		if lerr := r.lease.close(ctx); err == nil {
			err = lerr
		}
	}
	if cerr := r.rdb.Close(); err == nil {
		err = cerr
	}
	return err
}

func gocronLeader(ctx context.Context, env *Env) (string, error) {
	rdb, err := redisClient(env)
	if err != nil {
		return "", err
	}
	defer rdb.Close()
	return rdb.Get(ctx, env.Prefix+"leader").Result()
}
