/**
 * A barrier following Apache Curator's DistributedBarrier: while the barrier node exists,
 * waitOnBarrier() blocks; removing it releases every waiter at once.
 *
 * Same: setBarrier() creates the (persistent) node, removeBarrier() deletes it, waitOnBarrier()
 * returns true once it is gone, false when `timeout_ms` passes first. Differs: waiters watch
 * with exists watches on the session's event stream; a `WatchesLost` event makes them re-check.
 *
 *   const barrier = new DistributedBarrier(session, '/barriers/deploy');
 *   await barrier.setBarrier();            // coordinator
 *   await barrier.waitOnBarrier();         // workers, until the coordinator removes it
 */
import { ShardkvClientError } from '../client-error.js';
import type { Session } from '../session.js';
import { deleteIfExists, isCode } from './sequential-nodes.js';
import { SessionWatches, sessionLostError } from './session-watches.js';

export class DistributedBarrier {
  constructor(
    readonly session: Session,
    readonly path: string,
  ) {}

  async setBarrier(): Promise<void> {
    try {
      await this.session.client.create(this.path);
    } catch (err) {
      if (!isCode(err, 'NODE_EXISTS')) throw err;
    }
  }

  async removeBarrier(): Promise<void> {
    await deleteIfExists(this.session, this.path);
  }

  /** One pass per wake-up; ends when the barrier is gone, at the deadline, or on session loss. */
  async waitOnBarrier(timeout_ms?: number): Promise<boolean> {
    const deadline = timeout_ms === undefined ? undefined : Date.now() + timeout_ms;
    const watches = await SessionWatches.for(this.session);
    for (;;) {
      const wakeup = watches.arm([this.path]);
      if ((await this.session.exists(this.path, { watch: true })) === null) {
        wakeup.cancel();
        return true;
      }
      const reason = await wakeup.wait(deadline === undefined ? undefined : deadline - Date.now());
      if (reason.kind === 'timeout') return false;
      if (reason.kind === 'session-lost') throw sessionLostError(`barrier ${this.path}`);
      if (reason.kind === 'cancelled') throw new ShardkvClientError('ABORTED', 0, `waiting on ${this.path} was cancelled`);
    }
  }
}
