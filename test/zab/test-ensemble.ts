/**
 * A tiny in-process network for the engine's unit tests: whole ensembles in one process, messages
 * delivered in FIFO order when the test drains, links cut and healed by hand, disks that persist
 * at once (or only when the test says so), and crash/restart from what the disk holds.
 * The state machine is the list of applied payloads (as strings).
 */
import { invariant } from '../../errors/codes.js';
import { ZabEngine, type Ready, type RoleChange } from '../../zab/engine.js';
import type { LogRecord, ZabMessage } from '../../zab/messages.js';
import { Prng } from '../../zab/prng.js';
import type { PersistentEpochs } from '../../zab/ready.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export interface EnsembleOptions {
  seed?: number;
  /** Durable state some nodes start from (as if restarted): epochs and log records. */
  disks?: Record<number, { currentEpoch: number; acceptedEpoch?: number; records: Array<{ zxid: number; payload: string }> }>;
  /** Nodes isolated from the start (before their first message). */
  isolated?: number[];
  logWindowRecords?: number;
  electionTimeoutTicks?: number;
}

export interface TestNode {
  id: number;
  engine: ZabEngine | undefined;
  /** Applied payloads, in order. */
  applied: string[];
  appliedZxids: number[];
  stateZxid: number;
  roles: RoleChange[];
  readsConfirmed: number[];
  readsFailed: number[];
  proposalsFailed: number[];
  syncModes: string[];
  /** Durable disk. */
  disk: { epochs: PersistentEpochs; records: LogRecord[]; snapshot: { zxid: number; applied: string[] } };
  /** When false, records wait in `unsynced` until the test calls fsync(). */
  autoPersist: boolean;
  unsynced: Array<{ truncateAfter?: number; records: LogRecord[] }>;
}

export class TestEnsemble {
  readonly nodes = new Map<number, TestNode>();
  private queue: Array<{ from: number; to: number; message: ZabMessage }> = [];
  private readonly cut = new Set<string>();
  private readonly prng: Prng;

  constructor(readonly ids: number[], private readonly options: EnsembleOptions = {}) {
    this.prng = new Prng(options.seed ?? 1);
    for (const id of ids) {
      const node: TestNode = {
        id, engine: undefined, applied: [], appliedZxids: [], stateZxid: 0, roles: [], readsConfirmed: [], readsFailed: [],
        proposalsFailed: [], syncModes: [], autoPersist: true, unsynced: [],
        disk: { epochs: { acceptedEpoch: 0, currentEpoch: 0 }, records: [], snapshot: { zxid: 0, applied: [] } },
      };
      const disk = options.disks?.[id];
      if (disk !== undefined) {
        node.disk.epochs = { acceptedEpoch: disk.acceptedEpoch ?? disk.currentEpoch, currentEpoch: disk.currentEpoch };
        node.disk.records = disk.records.map((r) => ({ zxid: r.zxid, payload: encoder.encode(r.payload) }));
      }
      this.nodes.set(id, node);
    }
    for (const id of options.isolated ?? []) this.isolate(id);
    for (const node of this.nodes.values()) this.start(node);
  }

  node(id: number): TestNode {
    const node = this.nodes.get(id);
    invariant(node !== undefined, `no node ${id}`);
    return node;
  }

  engine(id: number): ZabEngine {
    const engine = this.node(id).engine;
    invariant(engine !== undefined, `node ${id} is down`);
    return engine;
  }

  /** The id of the established leader, if exactly one up node is one. */
  leader(): number | undefined {
    const leaders = [...this.nodes.values()].filter((n) => n.engine?.status().role === 'leading' && n.engine.status().established);
    return leaders.length === 1 ? leaders[0]!.id : undefined;
  }

  cutLink(a: number, b: number): void {
    this.cut.add(`${a}-${b}`);
    this.cut.add(`${b}-${a}`);
  }

  /** Cuts every link between `id` and the others. */
  isolate(id: number): void {
    for (const other of this.ids) if (other !== id) this.cutLink(id, other);
  }

  heal(): void {
    this.cut.clear();
  }

  crash(id: number): void {
    const node = this.node(id);
    node.engine = undefined;
    node.unsynced = [];
    this.queue = this.queue.filter((m) => m.to !== id);
  }

  restart(id: number): void {
    const node = this.node(id);
    invariant(node.engine === undefined, `node ${id} is up`);
    node.applied = [...node.disk.snapshot.applied];
    node.stateZxid = node.disk.snapshot.zxid;
    this.start(node);
    this.drain();
  }

  /** Takes a durable snapshot of node `id`'s state machine (as a driver would in the background). */
  snapshot(id: number): void {
    const node = this.node(id);
    node.disk.snapshot = { zxid: node.stateZxid, applied: [...node.applied] };
  }

  /** Completes node `id`'s pending disk writes and reports them persisted. */
  fsync(id: number): void {
    const node = this.node(id);
    for (const write of node.unsynced) this.write(node, write);
    node.unsynced = [];
    this.reportPersisted(node);
    this.drain();
  }

  propose(id: number, payload: string): number | undefined {
    const zxid = this.engine(id).propose(encoder.encode(payload));
    this.drain();
    return zxid;
  }

  read(id: number, readId: number): void {
    this.engine(id).requestRead(readId);
    this.drain();
  }

  tick(count = 1): void {
    for (let i = 0; i < count; i++) {
      for (const node of this.nodes.values()) node.engine?.tick();
      this.drain();
    }
  }

  /** Ticks until `done` holds; fails after `maxTicks`. */
  tickUntil(what: string, done: () => boolean, maxTicks = 500): void {
    for (let i = 0; i < maxTicks; i++) {
      if (done()) return;
      this.tick();
    }
    invariant(done(), `not reached within ${maxTicks} ticks: ${what}`);
  }

  electLeader(): number {
    this.tickUntil('an established leader with every up node following', () => {
      const leader = this.leader();
      if (leader === undefined) return false;
      return [...this.nodes.values()].every((n) => n.engine === undefined || this.isCut(n.id, leader) || n.engine.status().established);
    });
    return this.leader()!;
  }

  /** Every message sent so far (for tests that count them). */
  readonly sent: Array<{ from: number; to: number; message: ZabMessage }> = [];

  /** Handles every Ready and delivers every queued message until nothing moves (bounded). */
  drain(): void {
    for (let round = 0; round < 10_000; round++) {
      let moved = false;
      for (const node of this.nodes.values()) {
        if (node.engine?.hasReady()) {
          const ready = node.engine.ready();
          this.handleReady(node, ready);
          node.engine.advance();
          if (node.autoPersist && (ready.records.length > 0 || ready.truncateAfter !== undefined)) this.reportPersisted(node);
          moved = true;
        }
      }
      const batch = this.queue;
      this.queue = [];
      for (const { from, to, message } of batch) {
        if (this.isCut(from, to)) continue;
        this.nodes.get(to)?.engine?.step(message);
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error('the test network did not quiesce');
  }

  private isCut(a: number, b: number): boolean {
    return this.cut.has(`${a}-${b}`);
  }

  private start(node: TestNode): void {
    const snapshotZxid = node.disk.snapshot.zxid;
    node.engine = new ZabEngine({
      id: node.id,
      members: this.ids,
      prng: this.prng.fork(),
      stateSnapshot: () => ({ zxid: node.stateZxid, data: encoder.encode(JSON.stringify(node.applied)) }),
      recovered: { epochs: { ...node.disk.epochs }, snapshotZxid, records: node.disk.records.filter((r) => r.zxid > snapshotZxid) },
      ...(this.options.logWindowRecords !== undefined ? { logWindowRecords: this.options.logWindowRecords } : {}),
      ...(this.options.electionTimeoutTicks !== undefined ? { electionTimeoutTicks: this.options.electionTimeoutTicks } : {}),
    });
  }

  private handleReady(node: TestNode, ready: Ready): void {
    if (ready.epochs) node.disk.epochs = { ...ready.epochs };
    if (ready.installSnapshot) {
      const applied = JSON.parse(decoder.decode(ready.installSnapshot.data)) as string[];
      node.applied = applied;
      node.stateZxid = ready.installSnapshot.zxid;
      node.disk.snapshot = { zxid: ready.installSnapshot.zxid, applied: [...applied] };
      node.disk.records = [];
      node.unsynced = [];
    }
    const write = { ...(ready.truncateAfter !== undefined ? { truncateAfter: ready.truncateAfter } : {}), records: ready.records };
    if (write.truncateAfter !== undefined || write.records.length > 0) {
      if (node.autoPersist) this.write(node, write);
      else node.unsynced.push(write);
    }
    for (const record of ready.committed) {
      invariant(record.zxid > node.stateZxid, 'applied out of order');
      node.applied.push(decoder.decode(record.payload));
      node.appliedZxids.push(record.zxid);
      node.stateZxid = record.zxid;
    }
    node.roles.push(...ready.roles);
    node.readsConfirmed.push(...ready.readsConfirmed);
    node.readsFailed.push(...ready.readsFailed.map((r) => r.readId));
    node.proposalsFailed.push(...ready.proposalsFailed.map((p) => p.tag));
    for (const { to, message } of ready.messages) {
      if (message.type === 'NEWLEADER') this.node(to).syncModes.push(message.mode);
      this.queue.push({ from: node.id, to, message });
      this.sent.push({ from: node.id, to, message });
    }
  }

  private write(node: TestNode, write: { truncateAfter?: number; records: LogRecord[] }): void {
    if (write.truncateAfter !== undefined) node.disk.records = node.disk.records.filter((r) => r.zxid <= write.truncateAfter!);
    node.disk.records.push(...write.records);
  }

  private reportPersisted(node: TestNode): void {
    const last = node.disk.records.at(-1)?.zxid ?? node.disk.snapshot.zxid;
    node.engine?.persisted(last);
  }
}
