/**
 * A deterministic simulation of a whole ZAB ensemble (TigerBeetle VOPR style): one seed decides
 * the ensemble size, the fault rates, every message delay, drop and duplicate, every partition,
 * crash, torn write and restart, and every client operation. A run has a faulty phase, then heals
 * everything and waits for quiescence, then checks:
 *   - the engine's own invariants (any ShardkvError INTERNAL thrown inside),
 *   - one leader per epoch (from the role changes leaders and followers report),
 *   - replicas agree: a zxid applied anywhere has the same payload everywhere,
 *   - no acknowledged write is lost: after quiescence every replica applied the same sequence,
 *     which is exactly the committed history and contains every acknowledged write,
 *   - the client history (puts, cas, linearizable reads, timeouts as pending) is linearizable.
 */
import type { Operation } from '../lincheck/checker.js';
import type { KvInput, KvOutput } from '../lincheck/kv-model.js';
import { ZabEngine, type Ready } from '../../zab/engine.js';
import { Prng } from '../../zab/prng.js';
import { formatZxid } from '../../zab/zxid.js';
import { kvLinearizability } from './kv-linearizability.js';
import { KvStateMachine, chainHash, encodeCommand, type KvCommand } from './kv-state-machine.js';
import { SimDisk } from './sim-disk.js';
import { SimNetwork } from './sim-network.js';

export interface SimOptions {
  /** Ticks of the faulty phase. */
  faultTicks?: number;
  /** Ticks allowed for the healed ensemble to quiesce. */
  quiesceTicks?: number;
  /** Lincheck wall-clock budget. */
  lincheckTimeout_ms?: number;
  /** Record every fault event (for --verbose replays). */
  trace?: boolean;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  failure?: string;
  /** What the seed chose and what happened, one line. */
  summary: string;
  events: string[];
  stats: SimStats;
}

export interface SimStats {
  nodes: number;
  ticks: number;
  crashes: number;
  partitions: number;
  pauses: number;
  tornWrites: number;
  elections: number;
  snapSyncs: number;
  truncSyncs: number;
  diffSyncs: number;
  opsAcked: number;
  opsTimedOut: number;
  opsFailed: number;
  committed: number;
  lincheck: 'ok' | 'unknown' | 'failed' | 'skipped';
}

interface SimNode {
  id: number;
  engine: ZabEngine | undefined;
  disk: SimDisk;
  state: KvStateMachine;
  restartAtTick: number;
  /** A paused replica (a long GC pause, a stalled VM) neither ticks nor receives until then. */
  pausedUntilTick: number;
  appliedSinceSnapshot: number;
}

interface ClientOp {
  client: number;
  history: Operation<KvInput, KvOutput>;
  node: number;
  deadlineTick: number;
  zxid?: number;
  readId?: number;
}

class SimulationFailure extends Error {}

export function runSimulation(seed: number, options: SimOptions = {}): SimResult {
  return new Simulation(seed, options).run();
}

class Simulation {
  private readonly prng: Prng;
  private readonly nodes: SimNode[] = [];
  private readonly network: SimNetwork;
  private readonly events: string[] = [];
  private readonly stats: SimStats;
  private now = 0;
  private clock = 0;
  private readonly history: Operation<KvInput, KvOutput>[] = [];
  private readonly waiting = new Map<number, ClientOp>();
  private readonly ackedWrites: Array<{ zxid: number; payload: string }> = [];
  private readonly committed = new Map<number, string>();
  private readonly leaderOfEpoch = new Map<number, number>();
  private nextReadId = 1;
  private nextValue = 1;
  private faultsOn = true;
  // Parameters drawn from the seed.
  private readonly crashProbability: number;
  private readonly pauseProbability: number;
  private readonly leaderTimeoutTicks: number;
  private readonly partitionProbability: number;
  private readonly clientCount: number;
  private readonly opProbability: number;
  private readonly keys: string[];
  private readonly snapshotEvery: number;
  private readonly logWindowRecords: number;
  private readonly faultTicks: number;
  private readonly quiesceTicks: number;
  private readonly clientOps: Array<ClientOp | undefined>;

  constructor(readonly seed: number, private readonly options: SimOptions) {
    this.prng = new Prng(seed);
    const size = this.prng.chance(0.5) ? 3 : 5;
    this.network = new SimNetwork(this.prng.fork(), {
      dropProbability: this.prng.pick([0, 0.01, 0.05, 0.1]),
      duplicateProbability: this.prng.pick([0, 0.01, 0.05]),
      maxDelayTicks: this.prng.intBetween(0, 4),
      slowProbability: this.prng.pick([0, 0, 0.01, 0.05]),
      slowDelayTicks: 60,
    });
    this.crashProbability = this.prng.pick([0, 0.005, 0.01, 0.03]);
    this.partitionProbability = this.prng.pick([0, 0.003, 0.01]);
    this.pauseProbability = this.prng.pick([0, 0.003, 0.01]);
    // Safety must not depend on timing: a leader may notice its lost quorum late.
    this.leaderTimeoutTicks = this.prng.pick([5, 10, 40]);
    this.clientCount = this.prng.intBetween(1, 4);
    this.opProbability = this.prng.pick([0.1, 0.3, 0.6]);
    this.keys = ['a', 'b', 'c'].slice(0, this.prng.intBetween(1, 3));
    this.snapshotEvery = this.prng.pick([10, 40, 1000]);
    this.logWindowRecords = this.prng.pick([4, 20, 1000]);
    this.faultTicks = options.faultTicks ?? 400;
    this.quiesceTicks = options.quiesceTicks ?? 400;
    this.clientOps = new Array<ClientOp | undefined>(this.clientCount).fill(undefined);
    const maxFsyncTicks = this.prng.pick([1, 2, 3, 8]);
    for (let id = 1; id <= size; id++) {
      const node: SimNode = {
        id, engine: undefined, disk: new SimDisk(this.prng.fork(), maxFsyncTicks), state: new KvStateMachine(),
        restartAtTick: 0, pausedUntilTick: 0, appliedSinceSnapshot: 0,
      };
      this.nodes.push(node);
    }
    this.stats = {
      nodes: size, ticks: 0, crashes: 0, partitions: 0, tornWrites: 0, elections: 0, snapSyncs: 0, truncSyncs: 0, diffSyncs: 0,
      pauses: 0, opsAcked: 0, opsTimedOut: 0, opsFailed: 0, committed: 0, lincheck: 'skipped',
    };
    for (const node of this.nodes) this.start(node);
  }

  run(): SimResult {
    try {
      for (; this.now < this.faultTicks; ) this.step();
      this.healAll();
      let quiet = false;
      for (let i = 0; i < this.quiesceTicks && !quiet; i++) {
        this.step();
        quiet = this.quiescent();
      }
      if (!quiet) throw new SimulationFailure(`no quiescence within ${this.quiesceTicks} ticks after heal: ${this.describeNodes()}`);
      this.checkFinalAgreement();
      this.checkLinearizability();
      return this.result(true);
    } catch (err) {
      const message = err instanceof Error ? `${err.message}${err instanceof SimulationFailure ? '' : `\n${err.stack ?? ''}`}` : String(err);
      return this.result(false, message);
    }
  }

  private result(ok: boolean, failure?: string): SimResult {
    this.stats.ticks = this.now;
    this.stats.tornWrites = this.nodes.reduce((sum, node) => sum + node.disk.tornWrites, 0);
    this.stats.committed = this.committed.size;
    const s = this.stats;
    const f = this.network.faults;
    const summary = `seed ${this.seed}: ${s.nodes} nodes, drop ${f.dropProbability}, dup ${f.duplicateProbability}, delay<=${f.maxDelayTicks}, ` +
      `slow ${f.slowProbability}, ` +
      `crash p ${this.crashProbability}, partition p ${this.partitionProbability}, pause p ${this.pauseProbability}, ` +
      `leader timeout ${this.leaderTimeoutTicks}, window ${this.logWindowRecords}, snapshot/${this.snapshotEvery} | ` +
      `${s.crashes} crashes, ${s.tornWrites} torn, ${s.partitions} partitions, ${s.pauses} pauses, ${s.elections} elections, ` +
      `sync diff/trunc/snap ${s.diffSyncs}/${s.truncSyncs}/${s.snapSyncs}, ${s.committed} committed, ` +
      `ops acked/timeout/failed ${s.opsAcked}/${s.opsTimedOut}/${s.opsFailed}, lincheck ${s.lincheck}`;
    return { seed: this.seed, ok, ...(failure !== undefined ? { failure } : {}), summary, events: this.events, stats: this.stats };
  }

  private event(text: string): void {
    this.events.push(`t=${this.now} ${text}`);
    if (this.events.length > 200 && this.options.trace !== true) this.events.shift();
  }

  // ---- the tick loop ----

  private step(): void {
    this.now += 1;
    if (this.faultsOn) this.injectFaults();
    this.restartDue();
    for (const node of this.nodes) {
      if (node.engine === undefined || this.paused(node)) continue;
      node.engine.tick();
      this.pump(node);
    }
    for (const delivery of this.network.due(this.now)) {
      const node = this.nodes[delivery.to - 1]!;
      if (node.engine === undefined) continue;
      if (this.paused(node)) {
        this.network.deliverLater(node.pausedUntilTick, delivery);
        continue;
      }
      node.engine.step(delivery.message);
      this.pump(node);
    }
    for (const node of this.nodes) {
      if (this.paused(node)) continue;
      const durable = node.disk.tick(this.now);
      if (durable !== undefined && node.engine !== undefined) {
        node.engine.persisted(durable);
        this.pump(node);
      }
    }
    this.runClients();
  }

  private paused(node: SimNode): boolean {
    return this.now < node.pausedUntilTick;
  }

  private injectFaults(): void {
    const prng = this.prng;
    if (prng.chance(this.pauseProbability)) {
      const node = prng.pick(this.nodes);
      if (node.engine !== undefined && !this.paused(node)) {
        node.pausedUntilTick = this.now + prng.intBetween(5, 50);
        this.stats.pauses += 1;
        this.event(`pause ${node.id} until t=${node.pausedUntilTick}`);
      }
    }
    if (prng.chance(this.crashProbability)) {
      if (prng.chance(0.2)) {
        // Power loss: every replica crashes at once and keeps only what its disk made durable.
        this.event('power loss');
        for (const node of this.nodes) if (node.engine !== undefined) this.crash(node);
      } else {
        // Half the crashes hit a leader: the interesting moments are around leadership changes.
        const leaders = this.nodes.filter((n) => n.engine?.role === 'leading');
        const node = leaders.length > 0 && prng.chance(0.5) ? prng.pick(leaders) : prng.pick(this.nodes);
        if (node.engine !== undefined) this.crash(node);
      }
    }
    if (prng.chance(this.partitionProbability)) {
      if (prng.chance(0.4)) {
        this.network.heal();
        this.event('partition healed');
      } else {
        const ids = this.nodes.map((node) => node.id);
        const sides = ids.map(() => prng.intBetween(0, 1));
        const groups = [ids.filter((_, i) => sides[i] === 0), ids.filter((_, i) => sides[i] === 1)];
        this.network.partition(groups);
        this.stats.partitions += 1;
        this.event(`partition ${JSON.stringify(groups)}`);
      }
    }
  }

  private crash(node: SimNode): void {
    node.engine = undefined;
    node.disk.crash();
    node.restartAtTick = this.now + this.prng.intBetween(1, 60);
    this.stats.crashes += 1;
    for (const [key, op] of this.waiting) if (op.node === node.id) this.timeOut(key, op);
    this.event(`crash ${node.id} (durable through ${formatZxid(node.disk.lastZxid())})`);
  }

  private restartDue(): void {
    for (const node of this.nodes) {
      if (node.engine === undefined && this.now >= node.restartAtTick) this.start(node);
    }
  }

  private start(node: SimNode): void {
    const durable = node.disk.durable;
    node.state = KvStateMachine.restore(durable.snapshot.data);
    node.appliedSinceSnapshot = 0;
    node.engine = new ZabEngine({
      id: node.id,
      members: this.nodes.map((n) => n.id),
      prng: this.prng.fork(),
      stateSnapshot: () => ({ zxid: node.state.zxid, data: node.state.serialize() }),
      recovered: { epochs: { ...durable.epochs }, snapshotZxid: durable.snapshot.zxid, records: [...durable.records] },
      logWindowRecords: this.logWindowRecords,
      leaderTimeoutTicks: this.leaderTimeoutTicks,
    });
    if (this.now > 0) this.event(`restart ${node.id} (snapshot ${formatZxid(durable.snapshot.zxid)}, log to ${formatZxid(node.disk.lastZxid())})`);
    this.pump(node);
  }

  private healAll(): void {
    this.faultsOn = false;
    this.network.heal();
    this.network.faults = { ...this.network.faults, dropProbability: 0, duplicateProbability: 0, slowProbability: 0 };
    for (const node of this.nodes) {
      if (node.engine === undefined) node.restartAtTick = this.now;
      node.pausedUntilTick = Math.min(node.pausedUntilTick, this.now);
    }
    this.event('heal all');
  }

  // ---- the driver: carries out each Ready ----

  private pump(node: SimNode): void {
    const engine = node.engine;
    if (engine === undefined) return;
    for (let i = 0; i < 100 && engine.hasReady(); i++) {
      const ready = engine.ready();
      this.carryOut(node, ready);
      engine.advance();
    }
  }

  private carryOut(node: SimNode, ready: Ready): void {
    const disk = node.disk;
    if (ready.epochs) disk.writeEpochs(ready.epochs);
    if (ready.installSnapshot) {
      disk.installSnapshot(ready.installSnapshot.zxid, ready.installSnapshot.data);
      node.state = KvStateMachine.restore(ready.installSnapshot.data);
      if (node.state.zxid !== ready.installSnapshot.zxid) throw new SimulationFailure(`snapshot data at ${node.state.zxid} labelled ${ready.installSnapshot.zxid}`);
    }
    if (ready.truncateAfter !== undefined) disk.truncate(ready.truncateAfter);
    disk.append(ready.records);
    for (const record of ready.committed) this.apply(node, record.zxid, record.payload);
    for (const readId of ready.readsConfirmed) {
      const op = this.waiting.get(-readId);
      if (op === undefined) continue;
      this.complete(-readId, op, node.state.get(op.history.input.key));
    }
    for (const failed of ready.readsFailed) this.fail(-failed.readId);
    for (const role of ready.roles) this.checkRole(node.id, role.role, role.leader, role.epoch);
    for (const { to, message } of ready.messages) {
      if (message.type === 'NEWLEADER') {
        if (message.mode === 'SNAP') this.stats.snapSyncs += 1;
        else if (message.mode === 'TRUNC') this.stats.truncSyncs += 1;
        else this.stats.diffSyncs += 1;
      }
      this.network.send(this.now, node.id, to, message);
    }
  }

  private apply(node: SimNode, zxid: number, payload: Uint8Array): void {
    const text = new TextDecoder().decode(payload);
    const known = this.committed.get(zxid);
    if (known === undefined) this.committed.set(zxid, text);
    else if (known !== text) throw new SimulationFailure(`replicas disagree at ${formatZxid(zxid)}: ${known} vs ${text} (node ${node.id})`);
    if (zxid <= node.state.zxid) throw new SimulationFailure(`node ${node.id} applied ${formatZxid(zxid)} after ${formatZxid(node.state.zxid)}`);
    const output = node.state.apply(zxid, payload);
    const op = this.waiting.get(zxid);
    if (op !== undefined && op.node === node.id) {
      this.ackedWrites.push({ zxid, payload: text });
      this.complete(zxid, op, output);
    }
    node.appliedSinceSnapshot += 1;
    if (node.appliedSinceSnapshot >= this.snapshotEvery) {
      node.appliedSinceSnapshot = 0;
      node.disk.saveSnapshot(node.state.zxid, node.state.serialize());
    }
  }

  private checkRole(id: number, role: string, leader: number | undefined, epoch: number | undefined): void {
    if (role === 'looking') return;
    if (role === 'leading' && epoch === undefined) this.stats.elections += 1;
    if (epoch === undefined || leader === undefined) return;
    const known = this.leaderOfEpoch.get(epoch);
    if (known === undefined) this.leaderOfEpoch.set(epoch, leader);
    else if (known !== leader) throw new SimulationFailure(`two leaders in epoch ${epoch}: ${known} and ${leader} (reported by ${id})`);
    this.event(`${id} ${role} ${leader} in epoch ${epoch}`);
  }

  // ---- clients ----

  private runClients(): void {
    for (const [key, op] of this.waiting) if (this.now >= op.deadlineTick) this.timeOut(key, op);
    if (!this.faultsOn) return;
    for (let client = 0; client < this.clientCount; client++) {
      if (this.clientOps[client] !== undefined || !this.prng.chance(this.opProbability)) continue;
      this.issue(client);
    }
  }

  private issue(client: number): void {
    const leaders = this.nodes.filter((n) => n.engine?.status().role === 'leading');
    const node = leaders.length > 0 && this.prng.chance(0.9) ? this.prng.pick(leaders) : this.prng.pick(this.nodes);
    const engine = node.engine;
    if (engine === undefined) return;
    const key = this.prng.pick(this.keys);
    const kind = this.prng.pick(['put', 'cas', 'get', 'get'] as const);
    let input: KvInput;
    if (kind === 'get') input = { op: 'get', key };
    else {
      const value = `v${this.nextValue++}`;
      const current = node.state.get(key);
      const expectedVersion = (current.type === 'value' ? current.version ?? 0 : 0) + (this.prng.chance(0.3) ? 1 : 0);
      input = kind === 'put' ? { op: 'put', key, value } : { op: 'cas', key, expectedVersion, value };
    }
    const history: Operation<KvInput, KvOutput> = { clientId: client, input, call: ++this.clock };
    const op: ClientOp = { client, history, node: node.id, deadlineTick: this.now + 40 };
    if (input.op === 'get') {
      const readId = this.nextReadId++;
      op.readId = readId;
      this.history.push(history);
      this.clientOps[client] = op;
      this.waiting.set(-readId, op);
      engine.requestRead(readId);
    } else {
      const zxid = engine.propose(encodeCommand(input as KvCommand));
      if (zxid === undefined) {
        this.stats.opsFailed += 1;
        this.pump(node);
        return;
      }
      op.zxid = zxid;
      this.history.push(history);
      this.clientOps[client] = op;
      this.waiting.set(zxid, op);
    }
    this.pump(node);
  }

  private complete(key: number, op: ClientOp, output: KvOutput): void {
    this.waiting.delete(key);
    op.history.return = ++this.clock;
    op.history.output = output;
    this.stats.opsAcked += 1;
    if (this.clientOps[op.client] === op) this.clientOps[op.client] = undefined;
  }

  /** A definite failure (NOT_LEADER for a read): the operation had no effect; drop it from the history. */
  private fail(key: number): void {
    const op = this.waiting.get(key);
    if (op === undefined) return;
    this.waiting.delete(key);
    const at = this.history.indexOf(op.history);
    if (at >= 0) this.history.splice(at, 1);
    this.stats.opsFailed += 1;
    if (this.clientOps[op.client] === op) this.clientOps[op.client] = undefined;
  }

  /** No answer by the deadline (or the replica crashed): the operation stays pending in the history. */
  private timeOut(key: number, op: ClientOp): void {
    this.waiting.delete(key);
    this.stats.opsTimedOut += 1;
    if (this.clientOps[op.client] === op) this.clientOps[op.client] = undefined;
  }

  // ---- checks ----

  private quiescent(): boolean {
    const statuses = this.nodes.map((node) => node.engine?.status());
    const leader = statuses.find((s) => s?.role === 'leading' && s.established);
    if (leader === undefined) return false;
    return statuses.every((s) => s !== undefined && s.established && s.leader === leader.id &&
      s.appliedZxid === leader.lastZxid && s.lastZxid === leader.lastZxid && s.durableZxid === leader.lastZxid);
  }

  private checkFinalAgreement(): void {
    const reference = this.nodes[0]!.state;
    for (const node of this.nodes) {
      if (node.state.zxid !== reference.zxid || node.state.chain !== reference.chain) {
        throw new SimulationFailure(`replicas applied different histories: node 1 at ${formatZxid(reference.zxid)} hash ${reference.chain}, ` +
          `node ${node.id} at ${formatZxid(node.state.zxid)} hash ${node.state.chain}`);
      }
    }
    // The replicas' common history must be exactly every zxid ever applied anywhere, in order.
    let chain = 0;
    const zxids = [...this.committed.keys()].sort((a, b) => a - b);
    for (const zxid of zxids) chain = chainHash(chain, `${zxid}:${this.committed.get(zxid)!}`);
    if (chain !== reference.chain) throw new SimulationFailure('the replicas\' history differs from the union of all applied transactions');
    for (const write of this.ackedWrites) {
      if (this.committed.get(write.zxid) !== write.payload || write.zxid > reference.zxid) {
        throw new SimulationFailure(`acknowledged write ${formatZxid(write.zxid)} ${write.payload} lost`);
      }
    }
  }

  private checkLinearizability(): void {
    const verdict = kvLinearizability(this.history, this.options.lincheckTimeout_ms ?? 5_000);
    this.stats.lincheck = verdict.lincheck;
    if (verdict.failure !== undefined) throw new SimulationFailure(verdict.failure);
  }

  private describeNodes(): string {
    return this.nodes.map((node) => {
      const s = node.engine?.status();
      if (s === undefined) return `${node.id}: down`;
      return `${node.id}: ${s.role}${s.established ? '' : '(setup)'} leader ${s.leader} epoch ${s.epoch} last ${formatZxid(s.lastZxid)} ` +
        `durable ${formatZxid(s.durableZxid)} applied ${formatZxid(s.appliedZxid)}`;
    }).join('; ');
  }
}
