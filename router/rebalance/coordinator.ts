/**
 * The rebalance coordinator: runs in every router, active in the one that leads the election
 * (coordinator-election.ts). The active one carries out the plan in /rebalance/plan step by
 * step and records each step there (compare-and-set), so a successor resumes from the plan:
 *
 *   moving      every transfer: reset the target, copy, tail (RangeMover); then catch up,
 *               fence every source and tail to the fence; check the target's key count
 *   committing  /ring := the plan's target ring, in one meta multi with a check of the plan's
 *               version (a coordinator that lost the plan cannot commit)
 *   dropping    every source drops its moved ranges and fence
 *   done
 *
 * A successor restarts the moving step from the copy (the target is reset first); every other
 * step is idempotent. A write to a range is refused (MOVED, held until the new ring) only from
 * its fence to the ring commit.
 *
 * Every range op that changes a group carries our fencing token (the election's sequence
 * number). A group that already accepted a higher one answers STALE_COORDINATOR: a successor
 * leads and we did not know (a partition, a long pause). We then stop at once, and leave and
 * re-join the election.
 */
import { ShardkvError } from '../../errors/codes.js';
import type { Logger } from '../../logging/logger.js';
import { RING_PATH } from '../../meta/cluster-records.js';
import type { MetaClient } from '../../meta/meta-client.js';
import { Ring, type RingHasher } from '../../ring/index.js';
import type { RingAdmin } from '../ring-admin.js';
import { CoordinatorElection } from './coordinator-election.js';
import type { GroupLeaderClient } from './group-leader-client.js';
import { PlanStore } from './plan-store.js';
import { RangeMover, type RangeMoverOptions } from './range-mover.js';
import { isActive, PLAN_PATH, type PlanTransfer, type RebalancePlan } from './rebalance-plan.js';

export interface CoordinatorOptions {
  routerId: string;
  meta: MetaClient;
  leaders: GroupLeaderClient;
  ringAdmin: RingAdmin;
  hasher: RingHasher;
  logger: Logger;
  /** Copy throttle per transfer. Default 16 MiB/s. */
  rate_bytes_per_s?: number;
  pageEntries?: number;
  /** How often progress is written to the plan. Default 500 ms. */
  progressEvery_ms?: number;
  /** How often an idle coordinator looks at the election and the plan. Default 500 ms. */
  poll_ms?: number;
  sessionTimeout_ms?: number;
}

/** The plan was taken over (its znode changed under us): stop working on it. */
class PlanLost extends Error {}

function isStaleCoordinator(err: unknown): boolean {
  return err instanceof ShardkvError && err.code === 'STALE_COORDINATOR';
}

export class RebalanceCoordinator {
  readonly election: CoordinatorElection;
  private readonly store: PlanStore;
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private activeNow = false;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: CoordinatorOptions) {
    this.store = new PlanStore(options.meta);
    this.election = new CoordinatorElection(options.meta, options.routerId, options.logger, {
      ...(options.sessionTimeout_ms === undefined ? {} : { sessionTimeout_ms: options.sessionTimeout_ms }),
      onChange: () => this.wake?.(),
    });
  }

  get active(): boolean {
    return this.activeNow;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.options.meta.onWatchEvent((event) => {
      if (event.path === PLAN_PATH) this.wake?.();
    });
    this.loop = this.run();
  }

  /** Stops, leaving the election (the next router takes over at once). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    this.unsubscribe?.();
    await this.loop;
    await this.election.leave();
  }

  /** Stops as a crash would: the session is not closed, it expires (tests). */
  async crash(): Promise<void> {
    this.running = false;
    this.election.abandon();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        await this.store.ensureParents();
        this.activeNow = await this.election.leads();
        const token = this.election.token;
        if (this.activeNow && token !== undefined) {
          const stored = await this.store.read();
          if (stored !== undefined && isActive(stored.plan)) await this.execute(stored.plan, stored.version, token);
          // Watch the plan so a new one wakes us.
          await this.options.meta.exists(PLAN_PATH, { watch: true });
        }
      } catch (err) {
        if (isStaleCoordinator(err)) {
          this.options.logger.warn({ err, token: this.election.token }, 'a newer rebalance coordinator has acted; stepping down');
          this.activeNow = false;
          await this.election.leave();
        } else if (!(err instanceof PlanLost)) {
          this.options.logger.warn({ err }, 'rebalance coordinator step failed; retrying');
        }
      }
      await this.pause(this.options.poll_ms ?? 500);
    }
    this.activeNow = false;
  }

  private pause(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async execute(plan: RebalancePlan, initialVersion: number, token: number): Promise<void> {
    const { logger } = this.options;
    let version = initialVersion;
    let saving: Promise<void> = Promise.resolve();
    let lost = false;
    const save = (): Promise<void> => {
      saving = saving.then(async () => {
        if (lost) return;
        plan.updatedAt_ms = Date.now();
        plan.coordinator = this.options.routerId;
        try {
          version = await this.store.write(plan, version);
        } catch (err) {
          if (err instanceof ShardkvError && err.code === 'BAD_VERSION') lost = true;
          else throw err;
        }
      });
      return saving.then(() => {
        if (lost) throw new PlanLost(`plan ${plan.id} was taken over`);
      });
    };
    const check = (): void => {
      if (lost) throw new PlanLost(`plan ${plan.id} was taken over`);
      if (!this.running) throw new PlanLost('coordinator stopping');
    };
    await save(); // claims the plan: a stale coordinator's next write fails
    logger.info({ plan: plan.id, state: plan.state }, 'coordinating rebalance');

    const { ring } = await this.options.ringAdmin.read();
    if (ring.version >= plan.toRingVersion && plan.state !== 'dropping') {
      const committed = ring.version === plan.toRingVersion && JSON.stringify(ring.toJSON()) === JSON.stringify(plan.targetRing);
      if (!committed && plan.state === 'moving') return this.fail(plan, save, `the ring moved to version ${ring.version} under the plan`);
      this.markCommitted(plan);
    } else if (ring.version !== plan.fromRingVersion && plan.state !== 'dropping') {
      return this.fail(plan, save, `the ring is at version ${ring.version}, the plan starts from ${plan.fromRingVersion}`);
    }

    const movers = plan.transfers.map((transfer) => this.moverFor(plan, transfer, token, () => void save().catch(() => undefined)));
    if (plan.state === 'moving') {
      try {
        for (const [i, mover] of movers.entries()) {
          const transfer = plan.transfers[i]!;
          check();
          Object.assign(transfer, { state: 'copying', attempts: transfer.attempts + 1, startedAt_ms: Date.now() });
          delete transfer.lastError;
          await save();
          await mover.copyAndTail();
          transfer.state = 'tailing';
          await save();
        }
        for (const mover of movers) await mover.catchUp();
        check();
        await Promise.all(movers.map(async (mover, i) => {
          await mover.fenceAndFinish();
          Object.assign(plan.transfers[i]!, { state: 'fenced', fencedAt_ms: Date.now() });
        }));
        await save();
        for (const mover of movers) await mover.verifyCounts();
        check();
        plan.state = 'committing';
        await save();
      } catch (err) {
        // Not ours to record: the plan belongs to whoever took it over.
        if (err instanceof PlanLost || isStaleCoordinator(err)) throw err;
        for (const transfer of plan.transfers) if (transfer.state !== 'fenced') transfer.lastError = (err as Error).message;
        await save();
        throw err;
      }
    }
    if (plan.state === 'committing') {
      await this.commitRing(plan, version);
      this.markCommitted(plan);
      await save();
      logger.info({ plan: plan.id, ringVersion: plan.toRingVersion }, 'rebalance ring committed');
    }
    if (plan.state === 'dropping') {
      for (const [i, mover] of movers.entries()) {
        const transfer = plan.transfers[i]!;
        if (transfer.state === 'dropped') continue;
        check();
        await mover.drop();
        Object.assign(transfer, { state: 'dropped', droppedAt_ms: Date.now() });
        await save();
      }
      plan.state = 'done';
      plan.finishedAt_ms = Date.now();
      await save();
      logger.info({ plan: plan.id }, 'rebalance done');
    }
  }

  private moverFor(plan: RebalancePlan, transfer: PlanTransfer, token: number, onSaveDue: () => void): RangeMover {
    let lastSave_ms = 0;
    const options: RangeMoverOptions = {
      ...(this.options.rate_bytes_per_s === undefined ? {} : { rate_bytes_per_s: this.options.rate_bytes_per_s }),
      ...(this.options.pageEntries === undefined ? {} : { pageEntries: this.options.pageEntries }),
      onProgress: (progress) => {
        Object.assign(transfer, {
          keysTotal: progress.keysTotal, keysCopied: progress.keysCopied, tailKeys: progress.tailKeys, bytesCopied: progress.bytesCopied,
        });
        const now_ms = Date.now();
        if (now_ms - lastSave_ms >= (this.options.progressEvery_ms ?? 500)) {
          lastSave_ms = now_ms;
          onSaveDue();
        }
      },
    };
    return new RangeMover(this.options.leaders, {
      id: transfer.id, from: transfer.from, to: transfer.to, ranges: transfer.ranges, toRingVersion: plan.toRingVersion, coordinatorToken: token,
    }, options);
  }

  /** /ring := target ring, only if the plan is still ours and /ring still the plan's starting ring. */
  private async commitRing(plan: RebalancePlan, planVersion: number): Promise<void> {
    const { ring, znodeVersion } = await this.options.ringAdmin.read();
    if (ring.version === plan.toRingVersion) return;
    if (ring.version !== plan.fromRingVersion) throw new ShardkvError('UNAVAILABLE', `the ring is at version ${ring.version}, not ${plan.fromRingVersion}`);
    const target = Ring.fromJSON(plan.targetRing, this.options.hasher);
    await this.options.meta.multi([
      { op: 'check', path: PLAN_PATH, version: planVersion },
      { op: 'setData', path: RING_PATH, data: new TextEncoder().encode(JSON.stringify(target.toJSON())), version: znodeVersion },
    ]);
  }

  private markCommitted(plan: RebalancePlan): void {
    const now_ms = Date.now();
    for (const transfer of plan.transfers) {
      if (transfer.state !== 'dropped') Object.assign(transfer, { state: 'committed', committedAt_ms: transfer.committedAt_ms ?? now_ms });
    }
    plan.state = 'dropping';
  }

  private async fail(plan: RebalancePlan, save: () => Promise<void>, reason: string): Promise<void> {
    this.options.logger.error({ plan: plan.id, reason }, 'rebalance failed');
    plan.state = 'failed';
    plan.error = reason;
    plan.finishedAt_ms = Date.now();
    await save();
  }
}
