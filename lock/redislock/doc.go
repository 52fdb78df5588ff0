// Package redislock is a distributed lock on Redis for programs that keep
// their own scheduler and only need one holder at a time: a cron job on
// every replica of a service that must run on one, a migration, a
// leader. It is the correct form of the common `SET key NX EX 5`:
//
//   - Obtain sets the key to a random token with a TTL, only if it is
//     free, and returns ErrNotObtained if someone holds it.
//
//   - While held, the lock renews itself every third of its TTL, checking
//     its token, so a holder that runs longer than the TTL keeps it. A
//     process that dies stops renewing, and the lock is free a TTL later.
//
//   - When renewal fails (the key was deleted or taken, or Redis could not
//     be reached before the TTL could have run out), the lock's Lost
//     channel closes and its Context is cancelled, so the holder stops
//     before anyone else can obtain the lock.
//
//   - Release deletes the key only if it still holds the lock's token, so
//     a holder whose lock expired never releases someone else's.
//
//   - Each Obtain returns a fencing token, strictly increasing per key
//     (INCR of a counter beside the lock), for the holder to hand to the
//     systems it writes to, which refuse a token lower than one they saw:
//     a paused process that wakes with a stale lock is refused there.
//
//     locks := redislock.New(rdb, redislock.Options{})
//     lock, err := locks.Obtain(ctx, "nightly-report", 30*time.Second)
//     if errors.Is(err, redislock.ErrNotObtained) {
//     return nil // another replica runs it
//     }
//     if err != nil {
//     return err
//     }
//     defer lock.Release(context.Background())
//     return report(lock.Context(), lock.Fence())
//
// The keys are <prefix>{<key>} and <prefix>{<key>}:fence, in one hash slot
// on Redis Cluster. The fence counter outlives the lock (one small key per
// lock name). The guarantees hold for one Redis server (or a primary and
// its replicas, up to the writes a failover loses); a lock is only as
// durable as Redis's persistence: a restart that loses the key frees the
// lock, and one that loses the counter repeats fencing tokens.
package redislock
