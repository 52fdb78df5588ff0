// Package pglock is a distributed lock on PostgreSQL for programs that
// keep their own scheduler and only need one holder at a time: a job on
// every replica of a service that must run on one, a migration, a
// leader. It uses a session-level advisory lock, held by a connection
// taken from a pgxpool for as long as the lock is held:
//
//   - Obtain takes a connection from the pool and tries
//     pg_try_advisory_lock on a 64-bit key hashed from the lock's name
//     (FNV-1a); it returns ErrNotObtained, giving the connection back, if
//     another session holds it. It never waits for the lock.
//
//   - The connection's life is the lock's: PostgreSQL releases an
//     advisory lock when its session ends, so a process that dies frees
//     its locks at once, and no TTL has to outlast the work. A held lock
//     pings its connection (Options.PingEvery); when the ping fails (the
//     connection dropped, the backend was terminated, the server
//     restarted) the lock's Lost channel closes and its Context is
//     cancelled, so the holder stops. Between the drop and the next ping
//     another process may already hold the lock: hand the fencing token
//     to what you write to.
//
//   - Each Obtain returns a fencing token, strictly increasing per name,
//     from a small table (INSERT … ON CONFLICT DO UPDATE SET fence =
//     fence + 1 RETURNING fence), created on first use in
//     Options.Schema, which must exist.
//
//   - Release unlocks and gives the connection back to the pool.
//
//     locks, err := pglock.New(pool, pglock.Options{})
//     if err != nil {
//     return err
//     }
//     lock, err := locks.Obtain(ctx, "nightly-report")
//     if errors.Is(err, pglock.ErrNotObtained) {
//     return nil // another replica runs it
//     }
//     if err != nil {
//     return err
//     }
//     defer lock.Release(context.Background())
//     return report(lock.Context(), lock.Fence())
//
// Each held lock takes one connection out of the pool: size the pool for
// the locks a process holds at once plus its other work. Behind a
// connection pooler in transaction mode (PgBouncer) session-level
// advisory locks do not work; connect directly.
package pglock
