/**
 * A read-write lock following Apache Curator's InterProcessReadWriteLock.
 *
 * Same: both locks make protected EPHEMERAL_SEQUENTIAL nodes in ONE directory, `read-` and
 * `write-` prefixed, ordered by sequence. A writer holds when its node is the lowest and waits
 * for its immediate predecessor, whatever kind (so writers queue fairly behind earlier readers).
 * A reader holds when no write node precedes it and otherwise waits for the first write node
 * ahead of it (Curator's choice). Readers share; a writer excludes everyone. Each lock is
 * reentrant, acquire takes a timeout, release of a lock not held throws.
 *
 * Differs: reentrancy is per lock object rather than per thread, and the holder of the write lock
 * does not get the read lock for free (Curator lets the writing thread also read, which allows a
 * downgrade); here such a read waits for the write lock's release like any other.
 *
 *   const rw = new ReadWriteLock(session, '/locks/table-1');
 *   await rw.readLock.acquire(); ... await rw.readLock.release();
 */
import type { Session } from '../session.js';
import { exclusiveOrder, SequentialLock, type LockOrder } from './sequential-lock.js';
import { baseName } from './sequential-nodes.js';

const READ_PREFIX = 'read-';
const WRITE_PREFIX = 'write-';
const BOTH = [READ_PREFIX, WRITE_PREFIX];

const readOrder: LockOrder = {
  prefix: READ_PREFIX,
  participants: BOTH,
  decide(sorted, ourIndex) {
    const firstWrite = sorted.findIndex((name) => baseName(name).startsWith(WRITE_PREFIX));
    if (firstWrite < 0 || firstWrite > ourIndex) return { acquired: true };
    return { acquired: false, watch: sorted[firstWrite]! };
  },
};

export class ReadWriteLock {
  readonly readLock: SequentialLock;
  readonly writeLock: SequentialLock;

  constructor(session: Session, path: string) {
    this.readLock = new SequentialLock(session, path, readOrder);
    this.writeLock = new SequentialLock(session, path, exclusiveOrder(WRITE_PREFIX, BOTH));
  }
}
