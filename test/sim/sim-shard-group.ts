/**
 * One simulated shard group: three ZabEngine replicas (SimNetwork, SimDisk) whose state machine
 * is the real TreeStateMachine over a real implicit-hierarchy ZnodeTree, with the real
 * TxnPreparer on the leader (prepared at the zxid the proposal gets, as TreeReplica does) and
 * the real RangeOps (RangeExports journal, import, fence, drop) serving the rebalance requests.
 * RangeOps is given stand-ins for its TreeReplica (tree, leading, write) and RingWatch (the
 * node's possibly stale view of the ring register); nothing of it is re-implemented here.
 *
 * The driver mirrors ZabReplica + TreeReplica: leadership established -> preparer reset, exports
 * cleared; zab leadership lost -> proposals in flight fail CONNECTION_LOSS (outcome unknown).
 */
import { invariant, ShardkvError } from '../../errors/codes.js';
import type { Logger } from '../../logging/logger.js';
import type { RingWatch } from '../../meta/ring-watch.js';
import { decodeMessage, encodeMessage } from '../../net/codec.js';
import { encodeTxnPayload, TreeStateMachine } from '../../replica/tree-state-machine.js';
import type { TreeReplica } from '../../replica/tree-replica.js';
import { RangeOps } from '../../shard/range-ops.js';
import { ZabEngine, type Ready } from '../../zab/engine.js';
import type { Prng } from '../../zab/prng.js';
import { formatZxid, nextZxid } from '../../zab/zxid.js';
import { TxnPreparer } from '../../znode/txn-preparer.js';
import type { PrepareContext, Request, Txn, TxnResult } from '../../znode/types.js';
import { ZnodeTree } from '../../znode/znode-tree.js';
import { SimDisk } from './sim-disk.js';
import { SimNetwork, type NetworkFaults } from './sim-network.js';
import { simPlacement, type GroupName, type RingView, type SimRing } from './sim-placement.js';

/** What a group needs from the simulation around it. */
export interface GroupWorld {
  readonly now: number;
  readonly ring: SimRing;
  readonly logger: Logger;
  event(text: string): void;
  /** Records a broken invariant; the run fails at the end of the tick. */
  fail(message: string): void;
  /**
   * Called when a replica applies a committed txn: `closedOpenSession` says whether a
   * closeSession txn closed a session open in this tree; `first` whether it is the group's
   * first replica to apply this zxid.
   */
  onApplied?(node: GroupNode, zxid: number, result: TxnResult, closedOpenSession: boolean, first: boolean): void;
  /** Sessions modelled (sim-sessions.ts): the group breaks the session authority rule on purpose. */
  readonly expireWithoutAuthority?: boolean;
}

/** The simulated clock in milliseconds: what the replicas' Date.now() is in the real code. */
export const MS_PER_TICK = 10;

export interface GroupConfig {
  faults: NetworkFaults;
  maxFsyncTicks: number;
  leaderTimeoutTicks: number;
  logWindowRecords: number;
  snapshotEvery: number;
  /** Chance per tick that a replica's ring watch delivers a newer ring. */
  ringWatchProbability: number;
  /**
   * How a leader answers a request its preparer refuses. `confirmed` (what ZabReplica.proposeWith
   * does): after every txn proposed before it is applied here, and after a read barrier (a
   * deposed leader that has not noticed fails it); NOT_LEADER if the leadership goes first.
   * `after-pending-commit`: without the barrier (a deposed leader answers from its stale tree;
   * seed 3716 with sessions found it). `at-prepare`: at once, even when the refusal rests on
   * pending txns that may still be lost with the leadership (seed 50 found it).
   */
  refusals: 'at-prepare' | 'after-pending-commit' | 'confirmed';
}

type Settle<T> = { resolve: (value: T) => void; reject: (err: unknown) => void };

export interface GroupNode {
  readonly id: number;
  readonly group: SimShardGroup;
  engine: ZabEngine | undefined;
  /** Grows at every start: replies of an earlier incarnation are lost with it. */
  incarnation: number;
  disk: SimDisk;
  tree: ZnodeTree;
  machine: TreeStateMachine;
  preparer: TxnPreparer;
  rangeOps: RangeOps;
  /** Established leader (TreeReplica.leading). */
  leading: boolean;
  zabLeading: boolean;
  /** The version of the ring this replica's RingWatch holds. */
  ringVersion: number;
  restartAtTick: number;
  appliedSinceSnapshot: number;
  proposals: Map<number, Settle<{ zxid: number; result: TxnResult }>>;
  reads: Map<number, Settle<void>>;
  /** Refusals waiting for the txns proposed before them (refusals: after-pending-commit, confirmed). */
  refusals: Array<{ afterZxid: number; err: unknown; reject: (err: unknown) => void }>;
  /** Sessions whose close this leader has proposed (TreeReplica.closing). */
  closing: Set<number>;
}

/** How to prepare a txn with the real preparer (one request, or a choice between requests). */
export type Preparation = (preparer: TxnPreparer, context: PrepareContext) => Txn;

function snapshotBytes(machine: TreeStateMachine): Uint8Array {
  return encodeMessage([...machine.snapshotChunks()]);
}

function notLeader(group: string): ShardkvError {
  return new ShardkvError('NOT_LEADER', `this replica of ${group} is not the leader`);
}

export class SimShardGroup {
  readonly nodes: GroupNode[] = [];
  readonly network: SimNetwork;
  private readonly committed = new Map<number, string>();
  private readonly leaderOfEpoch = new Map<number, number>();
  private nextReadId = 1;
  crashes = 0;
  partitions = 0;
  elections = 0;

  constructor(readonly name: GroupName, private readonly world: GroupWorld, private readonly prng: Prng, readonly config: GroupConfig) {
    this.network = new SimNetwork(prng.fork(), config.faults);
    for (let id = 1; id <= 3; id++) {
      const tree = new ZnodeTree({ hierarchy: 'implicit', sessionScope: 'external' });
      const preparer = new TxnPreparer(tree);
      const node: GroupNode = {
        id, group: this, engine: undefined, incarnation: 0, disk: new SimDisk(prng.fork(), config.maxFsyncTicks),
        tree, preparer, machine: new TreeStateMachine(tree), rangeOps: undefined as unknown as RangeOps,
        leading: false, zabLeading: false, ringVersion: world.ring.version, restartAtTick: 0, appliedSinceSnapshot: 0,
        proposals: new Map(), reads: new Map(), refusals: [], closing: new Set(),
      };
      this.nodes.push(node);
      this.start(node);
    }
  }

  // ---- lifecycle ----

  private start(node: GroupNode): void {
    node.incarnation += 1;
    const tree = new ZnodeTree({ hierarchy: 'implicit', sessionScope: 'external' });
    tree.usePlacementHash(simPlacement);
    tree.useRingVersion(() => node.ringVersion);
    const preparer = new TxnPreparer(tree);
    const machine = new TreeStateMachine(tree, { onApplied: (zxid) => preparer.committed(zxid) });
    const durable = node.disk.durable;
    if (durable.snapshot.data !== undefined) machine.restoreChunks(decodeMessage(durable.snapshot.data) as Uint8Array[]);
    Object.assign(node, { tree, preparer, machine, leading: false, zabLeading: false, appliedSinceSnapshot: 0, closing: new Set<number>() });
    node.rangeOps = this.rangeOpsFor(node);
    // Broken on purpose: every replica decides the expiry of every session it holds.
    if (this.world.expireWithoutAuthority === true) tree.useSessionAuthority(() => true);
    node.engine = new ZabEngine({
      id: node.id,
      members: [1, 2, 3],
      prng: this.prng.fork(),
      stateSnapshot: () => ({ zxid: node.tree.lastZxid, data: snapshotBytes(node.machine) }),
      recovered: { epochs: { ...durable.epochs }, snapshotZxid: durable.snapshot.zxid, records: [...durable.records] },
      logWindowRecords: this.config.logWindowRecords,
      leaderTimeoutTicks: this.config.leaderTimeoutTicks,
    });
    if (this.world.now > 0) this.world.event(`${this.name}${node.id} restart (snapshot ${formatZxid(durable.snapshot.zxid)}, log to ${formatZxid(node.disk.lastZxid())})`);
    this.pump(node);
  }

  /** The real RangeOps over this incarnation's tree, with stand-ins for TreeReplica and RingWatch. */
  private rangeOpsFor(node: GroupNode): RangeOps {
    const replica = {
      tree: node.tree,
      get leading(): boolean {
        return node.leading;
      },
      write: (request: Request) => this.write(node, (preparer, context) => preparer.prepare(request, context)),
    };
    const ring = {
      get ring(): RingView {
        return node.group.ringView(node);
      },
      atLeast: async (version: number): Promise<RingView> => this.ringAtLeast(node, version),
      onChange: () => () => undefined,
    };
    return new RangeOps({
      group: this.name, replica: replica as unknown as TreeReplica, ring: ring as unknown as RingWatch,
      placement: simPlacement, logger: this.world.logger,
    });
  }

  crash(node: GroupNode): void {
    if (node.engine === undefined) return;
    node.engine = undefined;
    node.disk.crash();
    node.rangeOps.stop();
    node.leading = false;
    node.zabLeading = false;
    this.failPending(node, new ShardkvError('CONNECTION_LOSS', 'the replica crashed'));
    node.restartAtTick = this.world.now + this.prng.intBetween(1, 60);
    this.crashes += 1;
    this.world.event(`${this.name}${node.id} crash (durable through ${formatZxid(node.disk.lastZxid())})`);
  }

  stop(): void {
    for (const node of this.nodes) node.rangeOps.stop();
  }

  // ---- the ring as each replica sees it ----

  ringView(node: GroupNode): RingView {
    return this.world.ring.view(node.ringVersion);
  }

  /** RingWatch.atLeast: a replica behind the asked version re-reads /ring. */
  ringAtLeast(node: GroupNode, version: number): RingView {
    if (node.ringVersion < version) this.learnRing(node, this.world.ring.version);
    return this.ringView(node);
  }

  /**
   * The replica's RingWatch installs a newer ring. SessionAuthority.onRing restarts the timeout
   * of every session the new ring hands this group; it reads Date.now(), so the simulation does
   * the same step here with the tick clock.
   */
  learnRing(node: GroupNode, version: number): void {
    if (version <= node.ringVersion) return;
    const before = this.ringView(node);
    node.ringVersion = version;
    const after = this.ringView(node);
    for (const sessionId of node.tree.sessionIds()) {
      const hash = simPlacement.ofSession(sessionId);
      if (after.ownerOfHash(hash) === this.name && before.ownerOfHash(hash) !== this.name) {
        node.tree.touchSession(sessionId, this.world.now * MS_PER_TICK);
      }
    }
  }

  // ---- requests on a leader (TreeReplica.write / readBarrier) ----

  write(node: GroupNode, prepare: Preparation, sessionId = 0, onProposed?: (zxid: number) => void): Promise<{ zxid: number; result: TxnResult }> {
    const engine = node.engine;
    if (engine === undefined) return Promise.reject(new ShardkvError('UNAVAILABLE', 'replica is stopped'));
    const status = engine.status();
    if (status.role !== 'leading' || !status.established) return Promise.reject(notLeader(this.name));
    const zxid = nextZxid(status.lastZxid, status.epoch);
    const now_ms = this.world.now * MS_PER_TICK;
    let payload: Uint8Array;
    try {
      payload = encodeTxnPayload(prepare(node.preparer, { zxid, sessionId, now_ms }), now_ms);
    } catch (err) {
      if (this.config.refusals === 'at-prepare') return Promise.reject(err);
      const refused = status.appliedZxid >= status.lastZxid
        ? Promise.reject(err)
        : new Promise<never>((_resolve, reject) => node.refusals.push({ afterZxid: status.lastZxid, err, reject }));
      if (this.config.refusals === 'after-pending-commit') return refused;
      return refused.catch((reason: unknown) => (reason === err ? this.readBarrier(node).then(() => Promise.reject(err)) : Promise.reject(reason)));
    }
    const proposed = engine.propose(payload);
    invariant(proposed === zxid, `leader proposed at ${proposed === undefined ? 'nothing' : formatZxid(proposed)}, expected ${formatZxid(zxid)}`);
    onProposed?.(zxid);
    return new Promise((resolve, reject) => {
      node.proposals.set(zxid, { resolve, reject });
      this.pump(node);
    });
  }

  readBarrier(node: GroupNode): Promise<void> {
    const engine = node.engine;
    if (engine === undefined) return Promise.reject(new ShardkvError('UNAVAILABLE', 'replica is stopped'));
    const readId = this.nextReadId++;
    return new Promise((resolve, reject) => {
      node.reads.set(readId, { resolve, reject });
      engine.requestRead(readId);
      this.pump(node);
    });
  }

  /** The replicas that answer on the group's leader subject now. */
  leaders(): GroupNode[] {
    return this.nodes.filter((node) => node.engine !== undefined && node.leading);
  }

  // ---- the tick ----

  tick(faultsOn: boolean, crashProbability: number, partitionProbability: number): void {
    if (faultsOn) this.injectFaults(crashProbability, partitionProbability);
    for (const node of this.nodes) if (node.engine === undefined && this.world.now >= node.restartAtTick) this.start(node);
    for (const node of this.nodes) {
      if (node.engine === undefined) continue;
      node.engine.tick();
      this.pump(node);
    }
    for (const delivery of this.network.due(this.world.now)) {
      const node = this.nodes[delivery.to - 1]!;
      if (node.engine === undefined) continue;
      node.engine.step(delivery.message);
      this.pump(node);
    }
    for (const node of this.nodes) {
      const durable = node.disk.tick(this.world.now);
      if (durable !== undefined && node.engine !== undefined) {
        node.engine.persisted(durable);
        this.pump(node);
      }
      if (node.ringVersion < this.world.ring.version && this.prng.chance(this.config.ringWatchProbability)) {
        this.learnRing(node, this.world.ring.version);
      }
    }
  }

  private injectFaults(crashProbability: number, partitionProbability: number): void {
    const prng = this.prng;
    if (prng.chance(crashProbability)) {
      const leaders = this.nodes.filter((n) => n.engine?.role === 'leading');
      const node = leaders.length > 0 && prng.chance(0.6) ? prng.pick(leaders) : prng.pick(this.nodes);
      this.crash(node);
    }
    if (prng.chance(partitionProbability)) {
      if (prng.chance(0.4)) {
        this.network.heal();
        this.world.event(`${this.name} partition healed`);
      } else {
        const isolated = prng.pick(this.nodes).id;
        const groups = [[isolated], this.nodes.map((n) => n.id).filter((id) => id !== isolated)];
        this.network.partition(groups);
        this.partitions += 1;
        this.world.event(`${this.name} partition ${JSON.stringify(groups)}`);
      }
    }
  }

  heal(): void {
    this.network.heal();
    this.network.faults = { ...this.network.faults, dropProbability: 0, duplicateProbability: 0, slowProbability: 0 };
    for (const node of this.nodes) if (node.engine === undefined) node.restartAtTick = this.world.now;
  }

  // ---- the driver: carries out each Ready ----

  private pump(node: GroupNode): void {
    const engine = node.engine;
    if (engine === undefined) return;
    for (let i = 0; i < 100 && engine.hasReady(); i++) {
      const ready = engine.ready();
      this.carryOut(node, ready);
      engine.advance();
    }
  }

  private carryOut(node: GroupNode, ready: Ready): void {
    const disk = node.disk;
    if (ready.epochs) disk.writeEpochs(ready.epochs);
    if (ready.installSnapshot) {
      disk.installSnapshot(ready.installSnapshot.zxid, ready.installSnapshot.data);
      node.machine.restoreChunks(decodeMessage(ready.installSnapshot.data) as Uint8Array[]);
      if (node.tree.lastZxid !== ready.installSnapshot.zxid) this.world.fail(`${this.name}${node.id}: snapshot at ${node.tree.lastZxid} labelled ${ready.installSnapshot.zxid}`);
    }
    if (ready.truncateAfter !== undefined) disk.truncate(ready.truncateAfter);
    disk.append(ready.records);
    for (const record of ready.committed) {
      const text = Buffer.from(record.payload).toString('base64');
      const known = this.committed.get(record.zxid);
      if (known === undefined) this.committed.set(record.zxid, text);
      else if (known !== text) this.world.fail(`group ${this.name}: replicas disagree at ${formatZxid(record.zxid)} (node ${node.id})`);
      const sessionsBefore = node.tree.sessionCount;
      const result = node.machine.apply(record);
      node.rangeOps.exports.onApplied(record.zxid, result);
      this.world.onApplied?.(node, record.zxid, result, result.type === 'closeSession' && node.tree.sessionCount < sessionsBefore, known === undefined);
      const waiting = node.proposals.get(record.zxid);
      if (waiting !== undefined) {
        node.proposals.delete(record.zxid);
        waiting.resolve({ zxid: record.zxid, result });
      }
      if (node.refusals.length > 0) {
        for (const refusal of node.refusals.filter((r) => r.afterZxid <= record.zxid)) refusal.reject(refusal.err);
        node.refusals = node.refusals.filter((r) => r.afterZxid > record.zxid);
      }
      node.appliedSinceSnapshot += 1;
      if (node.appliedSinceSnapshot >= this.config.snapshotEvery) {
        node.appliedSinceSnapshot = 0;
        disk.saveSnapshot(node.tree.lastZxid, snapshotBytes(node.machine));
      }
    }
    for (const readId of ready.readsConfirmed) {
      const waiting = node.reads.get(readId);
      node.reads.delete(readId);
      waiting?.resolve();
    }
    for (const failed of ready.readsFailed) {
      const waiting = node.reads.get(failed.readId);
      node.reads.delete(failed.readId);
      waiting?.reject(notLeader(this.name));
    }
    for (const role of ready.roles) this.changeRole(node, role.role, role.leader, role.epoch);
    for (const { to, message } of ready.messages) this.network.send(this.world.now, node.id, to, message);
  }

  private changeRole(node: GroupNode, role: string, leader: number | undefined, epoch: number | undefined): void {
    if (role === 'leading' && epoch === undefined) this.elections += 1;
    if (epoch !== undefined && leader !== undefined) {
      const known = this.leaderOfEpoch.get(epoch);
      if (known === undefined) this.leaderOfEpoch.set(epoch, leader);
      else if (known !== leader) this.world.fail(`group ${this.name}: two leaders in epoch ${epoch}: ${known} and ${leader}`);
    }
    // ZabReplica: proposals in flight when zab leadership goes have an unknown outcome.
    if (node.zabLeading && role !== 'leading') this.failPending(node, new ShardkvError('CONNECTION_LOSS', 'leadership was lost before the write committed; its outcome is unknown'));
    node.zabLeading = role === 'leading';
    // TreeReplica.onRoleChange + ShardReplica.onLeadership.
    const established = role === 'leading' && epoch !== undefined;
    if (established && !node.leading) {
      node.leading = true;
      node.preparer.reset();
      node.rangeOps.clear();
      node.closing.clear();
      // Heartbeats sent to the previous leader were never replicated: every session starts afresh.
      node.tree.restartSessionLiveness(this.world.now * MS_PER_TICK);
      this.world.event(`${this.name}${node.id} leads epoch ${epoch}`);
    } else if (!established && node.leading) {
      node.leading = false;
      node.preparer.reset();
      node.rangeOps.clear();
      node.closing.clear();
      this.world.event(`${this.name}${node.id} stops leading`);
    }
  }

  private failPending(node: GroupNode, err: ShardkvError): void {
    for (const waiting of node.proposals.values()) waiting.reject(err);
    node.proposals.clear();
    for (const waiting of node.reads.values()) waiting.reject(notLeader(this.name));
    node.reads.clear();
    for (const refusal of node.refusals) refusal.reject(err);
    node.refusals = [];
  }

  // ---- checks ----

  quiescent(): boolean {
    const statuses = this.nodes.map((node) => node.engine?.status());
    const leader = statuses.find((s) => s?.role === 'leading' && s.established);
    if (leader === undefined) return false;
    return statuses.every((s) => s !== undefined && s.established && s.leader === leader.id &&
      s.appliedZxid === leader.lastZxid && s.lastZxid === leader.lastZxid && s.durableZxid === leader.lastZxid);
  }

  /** Every replica holds the same tree (nodes with stats, directories, sessions, fences). */
  checkAgreement(): string | undefined {
    // Data is a Uint8Array, or a Buffer after a snapshot's decode (whose toJSON runs before the
    // replacer sees it): both compare as base64.
    const dumps = this.nodes.map((node) => JSON.stringify(node.tree.dump(), (_key, value: unknown) => {
      if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
      if (isBufferJson(value)) return Buffer.from(value.data).toString('base64');
      return value;
    }));
    for (let i = 1; i < dumps.length; i++) {
      if (dumps[i] !== dumps[0]) return `group ${this.name}: replica ${i + 1} holds a different tree than replica 1`;
    }
    return undefined;
  }

  describe(): string {
    return this.nodes.map((node) => {
      const s = node.engine?.status();
      if (s === undefined) return `${this.name}${node.id}: down`;
      return `${this.name}${node.id}: ${s.role}${s.established ? '' : '(setup)'} epoch ${s.epoch} last ${formatZxid(s.lastZxid)} applied ${formatZxid(s.appliedZxid)} ring v${node.ringVersion}`;
    }).join('; ');
  }
}

function isBufferJson(value: unknown): value is { type: 'Buffer'; data: number[] } {
  return typeof value === 'object' && value !== null && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data);
}
