/**
 * A distributed mutex following Apache Curator's InterProcessMutex.
 *
 * Same: each contender creates a protected EPHEMERAL_SEQUENTIAL node `lock-` under the lock
 * directory; the lowest sequence holds the lock; every other contender watches only its
 * predecessor (getData with a watch), so a release wakes exactly one waiter (no herd); acquire
 * with or without a timeout; reentrant; release of a lock not held throws; a holder whose session
 * ends loses the lock (its node goes with the session) and the next contender takes it.
 *
 * Differs: reentrancy is per DistributedLock object, not per thread (see SequentialLock); the
 * owner is a shardkv Session rather than a CuratorFramework; a `WatchesLost` event (the group
 * changed leader) makes waiters re-check, as a Curator waiter does after a reconnect; there is no
 * revocation. Like Curator, a holder is not told when its session is lost: watch the session.
 *
 *   const lock = new DistributedLock(session, '/locks/job-7');
 *   if (await lock.acquire({ timeout_ms: 5000 })) try { ... } finally { await lock.release(); }
 */
import type { Session } from '../session.js';
import { exclusiveOrder, SequentialLock } from './sequential-lock.js';

export class DistributedLock extends SequentialLock {
  constructor(session: Session, path: string) {
    super(session, path, exclusiveOrder('lock-'));
  }
}
