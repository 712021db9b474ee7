/**
 * The rebalance plan in the meta tree (/rebalance/plan, JSON), read by every router and written
 * with compare-and-set on the znode version, so one writer at a time wins.
 */
import { ShardkvError } from '../../errors/codes.js';
import type { MetaClient } from '../../meta/meta-client.js';
import { ELECTION_PATH, isActive, PLAN_PATH, REBALANCE_PATH, type RebalancePlan } from './rebalance-plan.js';

export interface StoredPlan {
  plan: RebalancePlan;
  /** The znode version, for the next compare-and-set. */
  version: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class PlanStore {
  constructor(private readonly meta: MetaClient) {}

  /** Creates /rebalance and /rebalance/election if missing. */
  async ensureParents(): Promise<void> {
    for (const path of [REBALANCE_PATH, ELECTION_PATH]) {
      try {
        await this.meta.create(path, new Uint8Array(0));
      } catch (err) {
        if (!(err instanceof ShardkvError && err.code === 'NODE_EXISTS')) throw err;
      }
    }
  }

  async read(): Promise<StoredPlan | undefined> {
    try {
      const { data, stat } = await this.meta.getData(PLAN_PATH);
      if (data.length === 0) return undefined;
      return { plan: JSON.parse(decoder.decode(data)) as RebalancePlan, version: stat.version };
    } catch (err) {
      if (err instanceof ShardkvError && err.code === 'NO_NODE') return undefined;
      throw err;
    }
  }

  /** Stores a new plan unless one is still running (REBALANCE_IN_PROGRESS). */
  async start(plan: RebalancePlan): Promise<StoredPlan> {
    await this.ensureParents();
    const current = await this.read();
    if (isActive(current?.plan)) {
      throw new ShardkvError('REBALANCE_IN_PROGRESS', `rebalance ${current!.plan.id} is ${current!.plan.state}; wait for it to finish`, {
        planId: current!.plan.id,
      });
    }
    const data = encoder.encode(JSON.stringify(plan));
    if (current === undefined) {
      try {
        await this.meta.create(PLAN_PATH, data);
        return { plan, version: 0 };
      } catch (err) {
        if (err instanceof ShardkvError && err.code === 'NODE_EXISTS') throw conflict();
        throw err;
      }
    }
    try {
      const stat = await this.meta.setData(PLAN_PATH, data, current.version);
      return { plan, version: stat.version };
    } catch (err) {
      if (err instanceof ShardkvError && err.code === 'BAD_VERSION') throw conflict();
      throw err;
    }
  }

  /** Writes `plan` if the stored one is still at `version`; returns the new version (BAD_VERSION otherwise). */
  async write(plan: RebalancePlan, version: number): Promise<number> {
    const stat = await this.meta.setData(PLAN_PATH, encoder.encode(JSON.stringify(plan)), version);
    return stat.version;
  }
}

function conflict(): ShardkvError {
  return new ShardkvError('REBALANCE_IN_PROGRESS', 'another rebalance was started at the same time');
}
