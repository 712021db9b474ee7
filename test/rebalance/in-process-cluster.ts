/**
 * A whole cluster in this process over the in-process bus, for the rebalance tests: a meta
 * ensemble, shard groups (some on the ring, some spare), and a router-side toolkit (meta client,
 * ring watch, forwarder, group leader client). Every replica is a real TreeReplica with its data
 * in a temp directory; stop() stops them all and removes it.
 */
import { createLogger, type Logger } from '../../logging/logger.js';
import { MetaClient } from '../../meta/meta-client.js';
import { MetaReplica } from '../../meta/meta-replica.js';
import { RingWatch } from '../../meta/ring-watch.js';
import { InProcessBus } from '../../net/in-process.js';
import { Subjects } from '../../net/subjects.js';
import type { Transport } from '../../net/transport.js';
import type { ExportPageReply } from '../../protocol/shard.js';
import { RingHasher } from '../../ring/hasher.js';
import { createRouterMetrics } from '../../router/http/metrics.js';
import { GroupLeaderClient } from '../../router/rebalance/group-leader-client.js';
import { RingAdmin } from '../../router/ring-admin.js';
import { ShardForwarder } from '../../router/shard-forwarder.js';
import { ShardReplica } from '../../shard/shard-replica.js';
import type { SnapshotNode } from '../../znode/tree-snapshot.js';
import { makeTempDir } from '../support/tmpdir.js';
import { waitFor } from '../support/wait.js';

export const PREFIX = 'rb';
// Every replica of the cluster shares this process's event loop: a 500 ms election timeout rides
// out the loop stalls of a loaded CI machine (a 200 ms one saw spurious leader changes).
const TIMING = { tick_ms: 20, heartbeatTicks: 2, electionTimeoutTicks: 25 };

export interface ClusterOptions {
  /** Groups on the ring from the start. */
  ringGroups: string[];
  /** Groups running but not on the ring. */
  spareGroups?: string[];
  replicasPerGroup?: number;
}

export interface RouterKit {
  transport: Transport;
  meta: MetaClient;
  ring: RingWatch;
  forwarder: ShardForwarder;
  ringAdmin: RingAdmin;
  leaders: GroupLeaderClient;
  hasher: RingHasher;
  stop(): Promise<void>;
}

export class InProcessCluster {
  readonly bus = new InProcessBus();
  readonly subjects = new Subjects(PREFIX);
  readonly logger: Logger = createLogger({ role: 'test' }, { level: process.env.LOG_LEVEL ?? 'silent' });
  readonly shards = new Map<string, Array<{ nodeId: string; replica: ShardReplica | undefined; stopAux: () => Promise<void> }>>();
  private readonly metas: MetaReplica[] = [];
  private readonly routers: RouterKit[] = [];
  private readonly temp = makeTempDir('rebalance');
  replicaIds: string[] = [];

  static async start(options: ClusterOptions): Promise<InProcessCluster> {
    const cluster = new InProcessCluster();
    try {
      await cluster.run(options);
      return cluster;
    } catch (err) {
      await cluster.stop();
      throw err;
    }
  }

  private async run(options: ClusterOptions): Promise<void> {
    const metaIds = ['m1', 'm2', 'm3'];
    for (const nodeId of metaIds) {
      this.metas.push(await MetaReplica.start({
        nodeId, peers: metaIds, transport: this.bus.connect({ logger: this.logger }), prefix: PREFIX,
        dataDir: `${this.temp.dir}/meta-${nodeId}`, logger: this.logger, timing: TIMING,
      }));
    }
    this.replicaIds = Array.from({ length: options.replicasPerGroup ?? 3 }, (_, i) => `r${i + 1}`);
    const groups = [...options.ringGroups, ...(options.spareGroups ?? [])];
    await Promise.all(groups.flatMap((group) => this.replicaIds.map((nodeId) => this.startReplica(group, nodeId))));
    const kit = await this.router();
    await kit.ringAdmin.bootstrap(options.ringGroups);
    await kit.ring.refresh();
    for (const group of groups) await this.leaderOf(group);
  }

  async startReplica(group: string, nodeId: string): Promise<void> {
    const transport = this.bus.connect({ logger: this.logger });
    const meta = new MetaClient({ transport, prefix: PREFIX, logger: this.logger });
    const ring = await RingWatch.start(meta, await RingHasher.create(), this.logger);
    const replica = await ShardReplica.start({
      group, nodeId, peers: this.replicaIds, transport, prefix: PREFIX, dataDir: `${this.temp.dir}/${group}-${nodeId}`,
      logger: this.logger, meta, ring, timing: TIMING, reconcile_ms: 500,
    });
    const entries = this.shards.get(group) ?? [];
    const entry = entries.find((e) => e.nodeId === nodeId);
    const stopAux = async (): Promise<void> => {
      ring.close();
      await meta.close().catch(() => undefined);
      await transport.close();
    };
    if (entry !== undefined) Object.assign(entry, { replica, stopAux });
    else entries.push({ nodeId, replica, stopAux });
    this.shards.set(group, entries);
  }

  /** Stops one replica (its data stays: startReplica brings it back). */
  async stopReplica(group: string, nodeId: string): Promise<void> {
    const entry = this.shards.get(group)?.find((e) => e.nodeId === nodeId);
    if (entry?.replica === undefined) return;
    const replica = entry.replica;
    entry.replica = undefined;
    await replica.stop();
    await entry.stopAux();
  }

  /** The group's established leader (waits for one). */
  async leaderOf(group: string, timeout_ms = 15_000): Promise<string> {
    return waitFor(`a leader of ${group}`, () => {
      const leaders = (this.shards.get(group) ?? []).filter((e) => {
        const status = e.replica?.status();
        return status?.role === 'leading' && status.established;
      });
      return leaders.length === 1 ? leaders[0]!.nodeId : undefined;
    }, timeout_ms);
  }

  /** A router's worth of clients over its own connection to the bus. */
  async router(): Promise<RouterKit> {
    const transport = this.bus.connect({ logger: this.logger });
    const meta = new MetaClient({ transport, prefix: PREFIX, logger: this.logger });
    const hasher = await RingHasher.create();
    const ring = await RingWatch.start(meta, hasher, this.logger);
    const kit: RouterKit = {
      transport, meta, ring, hasher,
      forwarder: new ShardForwarder({ transport, subjects: this.subjects, ring, logger: this.logger, metrics: createRouterMetrics(), timeout_ms: 15_000 }),
      ringAdmin: new RingAdmin(meta, hasher, this.logger),
      leaders: new GroupLeaderClient(transport, this.subjects),
      async stop() {
        ring.close();
        await meta.close().catch(() => undefined);
        await transport.close();
      },
    };
    this.routers.push(kit);
    return kit;
  }

  /** Every node a group's leader holds (an export of the whole hash space), by path. */
  async nodesOf(group: string): Promise<Map<string, SnapshotNode>> {
    const kit = this.routers[0]!;
    const nodes = new Map<string, SnapshotNode>();
    const exportId = `inspect-${group}-${Date.now()}`;
    let cursor: number | null = 0;
    for (let pages = 0; cursor !== null && pages < 10_000; pages++) {
      const page: ExportPageReply = await kit.leaders.send<ExportPageReply>(group, {
        op: 'exportRange', exportId, ranges: [['0000000000000000', '0000000000000000']], cursor, limit: 5000, maxBytes: 4 * 1024 * 1024,
      });
      for (const node of page.image.nodes) nodes.set(node[0], node);
      cursor = page.nextCursor;
    }
    await kit.leaders.send(group, { op: 'exportEnd', exportId });
    return nodes;
  }

  async stop(): Promise<void> {
    for (const kit of this.routers.splice(0)) await kit.stop().catch(() => undefined);
    for (const [group, entries] of this.shards) for (const entry of entries) await this.stopReplica(group, entry.nodeId).catch(() => undefined);
    for (const meta of this.metas.splice(0)) await meta.stop().catch(() => undefined);
    this.temp.cleanup();
  }
}
