/**
 * A double barrier following Apache Curator's DistributedDoubleBarrier: `memberQty` members
 * enter() and all are released together once that many have entered; they leave() and all
 * return once every one has left.
 *
 * Same algorithm: enter sets an exists watch on `<path>/ready`, creates an EPHEMERAL member node
 * `<path>/<uuid>`, and the member that sees `memberQty` members creates `ready`; everyone waits
 * for `ready`. leave: the lowest member waits for the highest to go, every other member deletes
 * its node and waits for the lowest, until none is left; the last one out deletes `ready`.
 * Members and `ready` live in one directory, so on one group. Timeouts answer false.
 *
 * Differs: a `WatchesLost` event makes waiters re-check; a lost session rejects with
 * SESSION_EXPIRED (Curator throws on a lost connection too). Like Curator's, one path serves
 * one round at a time: start the next round once everyone has left.
 */
import { randomUUID } from 'node:crypto';
import { ShardkvClientError } from '../client-error.js';
import type { Session } from '../session.js';
import { childPath, deleteIfExists, isCode } from './sequential-nodes.js';
import { SessionWatches, sessionLostError, type Wakeup } from './session-watches.js';

const READY = 'ready';

export class DistributedDoubleBarrier {
  private readonly ourName = randomUUID();
  private readonly readyPath: string;

  constructor(
    readonly session: Session,
    readonly path: string,
    readonly memberQty: number,
  ) {
    if (!Number.isInteger(memberQty) || memberQty < 1) throw new ShardkvClientError('BAD_ARGUMENTS', 0, `memberQty must be a positive integer, not ${memberQty}`);
    this.readyPath = childPath(path, READY);
  }

  private get ourPath(): string {
    return childPath(this.path, this.ourName);
  }

  /** Resolves true once `memberQty` members have entered, false at the deadline (our node then goes). */
  async enter(timeout_ms?: number): Promise<boolean> {
    const deadline = timeout_ms === undefined ? undefined : Date.now() + timeout_ms;
    const watches = await SessionWatches.for(this.session);
    await this.session.create(this.ourPath, '', { mode: 'ephemeral' });
    for (;;) {
      const wakeup = watches.arm([this.readyPath, this.path]);
      if ((await this.session.exists(this.readyPath, { watch: true })) !== null) {
        wakeup.cancel();
        return true;
      }
      const members = await this.members(true);
      if (members.length >= this.memberQty) {
        wakeup.cancel();
        try {
          await this.session.client.create(this.readyPath);
        } catch (err) {
          if (!isCode(err, 'NODE_EXISTS')) throw err;
        }
        return true;
      }
      if (!(await this.settle(wakeup, deadline))) {
        await deleteIfExists(this.session, this.ourPath);
        return false;
      }
    }
  }

  /** Resolves true once every member has left, false at the deadline. */
  async leave(timeout_ms?: number): Promise<boolean> {
    const deadline = timeout_ms === undefined ? undefined : Date.now() + timeout_ms;
    const watches = await SessionWatches.for(this.session);
    let ourNodeShouldExist = true;
    for (;;) {
      const members = await this.members(false);
      if (members.length === 0) break;
      const ourIndex = members.indexOf(this.ourName);
      if (ourIndex < 0 && ourNodeShouldExist) throw sessionLostError(`double barrier ${this.path}: our node is gone`);
      if (members.length === 1) {
        if (ourNodeShouldExist) await deleteIfExists(this.session, this.ourPath);
        break;
      }
      // The lowest waits for the highest; the others leave and wait for the lowest.
      const watched = childPath(this.path, ourIndex === 0 ? members[members.length - 1]! : members[0]!);
      const wakeup = watches.arm([watched]);
      const stat = await this.session.exists(watched, { watch: true });
      if (ourIndex !== 0 && ourNodeShouldExist) {
        await deleteIfExists(this.session, this.ourPath);
        ourNodeShouldExist = false;
      }
      if (stat === null) {
        wakeup.cancel();
        continue;
      }
      if (!(await this.settle(wakeup, deadline))) return false;
    }
    await deleteIfExists(this.session, this.readyPath);
    return true;
  }

  /** The member names (not `ready`), sorted; `watch` sets a child watch on the directory. */
  private async members(watch: boolean): Promise<string[]> {
    return (await this.session.children(this.path, { watch })).children.filter((name) => name !== READY).sort();
  }

  /** Waits for the wake-up: true to re-check, false at the deadline. */
  private async settle(wakeup: Wakeup, deadline: number | undefined): Promise<boolean> {
    const reason = await wakeup.wait(deadline === undefined ? undefined : deadline - Date.now());
    if (reason.kind === 'timeout') return false;
    if (reason.kind === 'session-lost') throw sessionLostError(`double barrier ${this.path}`);
    return true;
  }
}
