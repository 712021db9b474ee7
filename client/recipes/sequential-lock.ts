/**
 * The lock engine shared by DistributedLock and ReadWriteLock (Curator's LockInternals): create
 * a protected ephemeral_sequential node under the lock directory, list the directory, and either
 * hold the lock or watch the ONE node that must go first (no herd), as decided by a LockOrder.
 *
 * Reentrant per object: acquiring a lock this object holds only counts (Curator's mutex is
 * reentrant per thread; JavaScript has no threads, so use one object per logical owner). Calls
 * of acquire() on one object run one after another.
 */
import { ShardkvClientError } from '../client-error.js';
import type { Session } from '../session.js';
import { childPath, createProtectedSequential, deleteIfExists, isCode, nameOf, sortedParticipants } from './sequential-nodes.js';
import { SessionWatches, sessionLostError } from './session-watches.js';

export type LockDecision = { acquired: true } | { acquired: false; watch: string };

export interface LockOrder {
  /** Name prefix of this lock's nodes, e.g. `lock-`. */
  prefix: string;
  /** Prefixes of every node that takes part in the order (a read-write lock has two). */
  participants: readonly string[];
  /** With the participants sorted by sequence and ours at `ourIndex`: hold, or the node to wait for. */
  decide(sorted: readonly string[], ourIndex: number): LockDecision;
}

/** At most one holder: the lowest node holds, every other waits for the one just before it. */
export function exclusiveOrder(prefix: string, participants: readonly string[] = [prefix]): LockOrder {
  return {
    prefix,
    participants,
    decide: (sorted, ourIndex) => (ourIndex === 0 ? { acquired: true } : { acquired: false, watch: sorted[ourIndex - 1]! }),
  };
}

export type LockPhase = 'idle' | 'acquiring' | 'waiting' | 'held';

export interface AcquireOptions {
  /** Give up after this long (acquire then resolves false); wait indefinitely when absent. */
  timeout_ms?: number;
  /** Aborting rejects the acquire with ABORTED (its node is removed). */
  signal?: AbortSignal;
}

export class SequentialLock {
  private holds = 0;
  private ourPath: string | undefined;
  private phaseValue: LockPhase = 'idle';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly session: Session,
    /** The lock directory: every participant's node is a child of it (so all on one group). */
    readonly path: string,
    private readonly order: LockOrder,
  ) {}

  /** Whether this object holds the lock (Curator's isAcquiredInThisProcess). */
  get isHeld(): boolean {
    return this.holds > 0;
  }

  /** `waiting` once the watch on the node ahead is set. */
  get phase(): LockPhase {
    return this.phaseValue;
  }

  /** The held lock's node. */
  get nodePath(): string | undefined {
    return this.ourPath;
  }

  /** Resolves true once held, false if `timeout_ms` passed first. */
  acquire(options: AcquireOptions = {}): Promise<boolean> {
    const run = this.queue.then(() => this.acquireNow(options));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Releases one hold; the last one deletes the node. Throws NOT_HELD if this object holds nothing. */
  async release(): Promise<void> {
    if (this.holds === 0 || this.ourPath === undefined) throw new ShardkvClientError('NOT_HELD', 0, `this object does not hold the lock ${this.path}`);
    this.holds -= 1;
    if (this.holds > 0) return;
    const path = this.ourPath;
    this.ourPath = undefined;
    this.phaseValue = 'idle';
    await deleteIfExists(this.session, path);
  }

  /** Every participant's node name in lock order (Curator's getParticipantNodes). */
  async participants(): Promise<string[]> {
    return sortedParticipants((await this.session.children(this.path)).children, this.order.participants);
  }

  private async acquireNow(options: AcquireOptions): Promise<boolean> {
    if (this.holds > 0) {
      this.holds += 1;
      return true;
    }
    const deadline = options.timeout_ms === undefined ? undefined : Date.now() + options.timeout_ms;
    this.phaseValue = 'acquiring';
    let ourPath: string | undefined;
    try {
      const watches = await SessionWatches.for(this.session);
      ourPath = await createProtectedSequential(this.session, this.path, this.order.prefix, 'ephemeral_sequential');
      if (await this.waitForTurn(watches, ourPath, deadline, options.signal)) {
        this.ourPath = ourPath;
        this.holds = 1;
        this.phaseValue = 'held';
        return true;
      }
      this.phaseValue = 'idle';
      await deleteIfExists(this.session, ourPath);
      return false;
    } catch (err) {
      this.phaseValue = 'idle';
      if (ourPath !== undefined) await deleteIfExists(this.session, ourPath).catch(() => undefined);
      throw err;
    }
  }

  /** One pass per wake-up; ends with the lock, at the deadline, or when the session is lost. */
  private async waitForTurn(watches: SessionWatches, ourPath: string, deadline: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const ourName = nameOf(ourPath);
    for (;;) {
      if (deadline !== undefined && Date.now() >= deadline) return false;
      if (watches.lost) throw sessionLostError(`lock ${this.path}`);
      const sorted = await this.participants();
      const ourIndex = sorted.indexOf(ourName);
      if (ourIndex < 0) throw sessionLostError(`lock ${this.path}: our node ${ourPath} is gone`);
      const decision = this.order.decide(sorted, ourIndex);
      if (decision.acquired) return true;
      const ahead = childPath(this.path, decision.watch);
      const wakeup = watches.arm([ahead], signal);
      try {
        // getData, not exists, as Curator: a watch is left only on a node that exists.
        await this.session.get(ahead, { watch: true });
      } catch (err) {
        wakeup.cancel();
        if (isCode(err, 'NO_NODE')) continue;
        throw err;
      }
      this.phaseValue = 'waiting';
      const reason = await wakeup.wait(deadline === undefined ? undefined : deadline - Date.now());
      this.phaseValue = 'acquiring';
      if (reason.kind === 'timeout') return false;
      if (reason.kind === 'session-lost') throw sessionLostError(`lock ${this.path}`);
      if (reason.kind === 'cancelled') throw new ShardkvClientError('ABORTED', 0, `acquiring the lock ${this.path} was aborted`);
    }
  }
}
