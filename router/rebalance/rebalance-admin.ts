/**
 * What the admin API asks of rebalancing: start a plan to add or remove a group, and read the
 * plan with its progress. The coordinator (whichever router leads) carries the plan out.
 */
import { ShardkvError } from '../../errors/codes.js';
import { groupPath } from '../../meta/cluster-records.js';
import type { MetaClient } from '../../meta/meta-client.js';
import { validateGroupId } from '../../ring/index.js';
import type { RingAdmin } from '../ring-admin.js';
import { PlanStore } from './plan-store.js';
import { makePlan, summarise, type PlanSummary, type RebalancePlan } from './rebalance-plan.js';

export interface RebalanceStatus {
  plan: RebalancePlan | null;
  summary: PlanSummary | null;
}

export class RebalanceAdmin {
  private readonly store: PlanStore;

  constructor(
    private readonly meta: MetaClient,
    private readonly ringAdmin: RingAdmin,
  ) {
    this.store = new PlanStore(meta);
  }

  /** Plans adding a group whose replicas run and are registered under /groups/<id>. */
  async addGroup(id: string): Promise<RebalanceStatus> {
    validateGroupId(id);
    let members: string[];
    try {
      members = (await this.meta.getChildren(groupPath(id))).children;
    } catch (err) {
      if (err instanceof ShardkvError && err.code === 'NO_NODE') {
        throw new ShardkvError('NO_NODE', `group ${id} is not registered: start its replicas first (shardkv shard --group ${id})`, { group: id });
      }
      throw err;
    }
    if (members.length === 0) throw new ShardkvError('UNAVAILABLE', `group ${id} has no live replicas`, { group: id });
    return this.start('add', id);
  }

  /** Plans draining a group and taking it off the ring. */
  removeGroup(id: string): Promise<RebalanceStatus> {
    validateGroupId(id);
    return this.start('remove', id);
  }

  async status(): Promise<RebalanceStatus> {
    const stored = await this.store.read();
    if (stored === undefined) return { plan: null, summary: null };
    return { plan: stored.plan, summary: summarise(stored.plan, Date.now()) };
  }

  private async start(action: 'add' | 'remove', id: string): Promise<RebalanceStatus> {
    const { ring } = await this.ringAdmin.read();
    const plan = makePlan(ring, action, id, Date.now());
    await this.store.start(plan);
    return { plan, summary: summarise(plan, Date.now()) };
  }
}
