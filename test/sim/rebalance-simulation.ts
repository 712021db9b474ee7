/**
 * A deterministic simulation of a range move between two shard groups (issue #6): one seed
 * decides every fault, delay and client operation, as in simulation.ts.
 *
 * What is real and what is modelled:
 * - Groups A and B are three ZabEngine replicas each, with the real TreeStateMachine, ZnodeTree
 *   (implicit hierarchy), TxnPreparer (so the fence refusal at prepare is the real one) and
 *   RangeOps/RangeExports serving the rebalance requests (sim-shard-group.ts).
 * - The move is the real RangeMover, driven through a GroupLeaderClient over the simulated bus
 *   (sim-leader-client.ts), unthrottled; its promises are settled between ticks, so the run stays
 *   deterministic. The coordinator's steps are modelled on RebalanceCoordinator.execute: moving
 *   (copyAndTail, catchUp, fenceAndFinish, verifyCounts), committing (the ring), dropping; a
 *   failure restarts the moving step from the reset, a crashed coordinator's successor resumes
 *   from the plan (also restarting a moving step from the reset).
 * - The ring (meta's /ring) and the plan are atomic registers: their own ensemble is tested
 *   elsewhere. Every replica and every router sees the ring through its own possibly stale view
 *   (a watch that arrives late; a re-read when a request names a newer version).
 * - Client requests mirror ShardReplica.serveLeader (ownership at the replica's ring, the fence
 *   check, a read barrier for linearizable reads, the MOVED hold for fenced keys) and the
 *   router's ShardForwarder (route by the cached ring, follow MOVED with a refresh, retry
 *   leaderless answers, a write's TIMEOUT / CONNECTION_LOSS is an unknown outcome).
 * - Keys are `/d<i>/k` (placement key `/d<i>`; `/<i>-dir/k` with sessions); put is a setData(-1), or a create where the node
 *   is missing, prepared atomically by the real preparer; cas(v) is create (v = 0) or
 *   setData(version v - 1). With the option `sessions`, clients also open sessions, ping them and
 *   own ephemerals (sim-sessions.ts, which says what it models and checks).
 *
 * Checks after healing and quiescing: no engine or replica invariant broke, replicas of each
 * group hold the same tree, the moves completed (ring at its final version, plans done), the
 * moved range lives only on its final owner and no fence is left, every key's final
 * linearizable read shows its last acknowledged write (or a later pending one), and the whole
 * client history is linearizable.
 */
import { ShardkvError } from '../../errors/codes.js';
import { createLogger } from '../../logging/logger.js';
import { RangeMover, type TransferSpec } from '../../router/rebalance/range-mover.js';
import { Prng } from '../../zab/prng.js';
import { rangeToText, type HashRange } from '../../znode/range-transfer.js';
import type { TxnResult } from '../../znode/types.js';
import { isPending, type Operation } from '../lincheck/checker.js';
import { kvModel, type KvInput, type KvOutput } from '../lincheck/kv-model.js';
import { kvLinearizability } from './kv-linearizability.js';
import { CoordinatorGone, SimGroupLeaderClient, type LeaderBus } from './sim-leader-client.js';
import { fnv64, SimRing, type GroupName } from './sim-placement.js';
import { SimScheduler, settleMicrotasks } from './sim-scheduler.js';
import { SimSessions, type ExpiredAnswers, type SessionStats, type SessionWorld } from './sim-sessions.js';
import { SimShardGroup, type GroupNode, type GroupWorld, type Preparation } from './sim-shard-group.js';

/** Deliberately broken protocols, to show the checks can fail. */
export type BrokenProtocol = 'skip-fence' | 'skip-tail-to-fence' | 'expire-without-authority';

export interface RebalanceSimOptions {
  faultTicks?: number;
  quiesceTicks?: number;
  lincheckTimeout_ms?: number;
  trace?: boolean;
  broken?: BrokenProtocol;
  /**
   * How a leader answers a request its preparer refuses (sim-shard-group.ts). Default
   * `confirmed`, as ZabReplica.proposeWith does; the other two are its old, broken answers.
   */
  refusals?: 'at-prepare' | 'after-pending-commit' | 'confirmed';
  /** Overrides the seed's chance per tick that a replica's / a router's ring watch delivers a newer ring. */
  ringWatchProbability?: number;
  routerWatchProbability?: number;
  /**
   * Sessions and ephemerals (sim-sessions.ts), drawn from the seed after every other draw. Off by
   * default, so a seed without it replays as before.
   */
  sessions?: boolean;
  /** With sessions: how a leader confirms a session is closed before saying so (sim-sessions.ts). Default `local`, as ShardReplica does. */
  expiredAnswers?: ExpiredAnswers;
}

export interface RebalanceSimStats {
  ticks: number;
  keys: number;
  movingKeys: number;
  moves: number;
  movesDone: number;
  moveAttempts: number;
  coordinatorCrashes: number;
  crashes: number;
  partitions: number;
  elections: number;
  opsAcked: number;
  opsPending: number;
  opsFailed: number;
  movedRetries: number;
  lincheck: 'ok' | 'unknown' | 'failed' | 'skipped';
  sessions?: SessionStats;
}

export interface RebalanceSimResult {
  seed: number;
  ok: boolean;
  failure?: string;
  summary: string;
  events: string[];
  stats: RebalanceSimStats;
}

interface Plan {
  spec: TransferSpec;
  state: 'moving' | 'committing' | 'dropping' | 'done';
}

type KvOperation = Operation<KvInput, KvOutput>;

class SimulationFailure extends Error {}

const OP_DEADLINE_TICKS = 150;
const ATTEMPT_TIMEOUT_TICKS = 40;
const FENCE_HOLD_TICKS = 30;
const MAX_MOVED_RETRIES = 8;
const COORDINATOR_POLL_TICKS = 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export async function runRebalanceSimulation(seed: number, options: RebalanceSimOptions = {}): Promise<RebalanceSimResult> {
  const simulation = new RebalanceSimulation(seed, options);
  try {
    return await simulation.run();
  } finally {
    simulation.stop();
  }
}

function placementKeyOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

class RebalanceSimulation implements GroupWorld, LeaderBus, SessionWorld {
  private readonly prng: Prng;
  private readonly scheduler = new SimScheduler();
  readonly ring: SimRing;
  readonly logger = createLogger({ role: 'test' }, { level: 'silent' });
  readonly groups: Record<GroupName, SimShardGroup>;
  private readonly sessions: SimSessions | undefined;
  private readonly events: string[] = [];
  private readonly failures: string[] = [];
  private readonly history: KvOperation[] = [];
  private readonly stats: RebalanceSimStats;
  private clock = 0;
  private nextValue = 1;
  private faultsOn = true;
  // Drawn from the seed.
  private readonly keys: string[];
  private readonly movingKeys: string[];
  private readonly clientRing: number[];
  private readonly clientBusy: boolean[];
  private readonly clientCount: number;
  private readonly opProbability: number;
  private readonly movingKeyBias: number;
  private readonly routerWatchProbability: number;
  private readonly busDropProbability: number;
  private readonly busMaxDelayTicks: number;
  private readonly crashProbability: number;
  private readonly partitionProbability: number;
  private readonly coordinatorCrashProbability: number;
  private readonly moveStartTick: number;
  private readonly pageEntries: number;
  private readonly faultTicks: number;
  private readonly quiesceTicks: number;
  private readonly plans: Plan[] = [];
  private coordinatorGeneration = 0;
  private coordinatorRunning = false;

  constructor(readonly seed: number, private readonly options: RebalanceSimOptions) {
    const prng = new Prng(seed);
    this.prng = prng;
    const dirCount = prng.intBetween(3, 6);
    // FNV-1a spreads names that differ only at the end over a tiny part of the hash space; with
    // sessions, whose hashes must land in the moving range too, the varying digit comes first.
    const dirs = Array.from({ length: dirCount }, (_, i) => (options.sessions === true ? `/${i}-dir` : `/d${i}`));
    this.keys = dirs.map((dir) => `${dir}/k`);
    // The moving range: a run of the directories in hash order (never all of them).
    const sorted = [...dirs].sort((a, b) => (fnv64(a) < fnv64(b) ? -1 : 1));
    const first = prng.intBetween(0, dirCount - 2);
    const last = prng.intBetween(first, Math.min(dirCount - 2, first + 2));
    // With sessions the range reaches back to the previous directory's hash (the same directories
    // inside), so that session ids can be placed in it too.
    const start = options.sessions === true ? fnv64(sorted[(first + dirCount - 1) % dirCount]!) : fnv64(sorted[first]!) - 1n;
    const moving: HashRange = { start, end: fnv64(sorted[last]!) };
    this.movingKeys = sorted.slice(first, last + 1).map((dir) => `${dir}/k`).sort();
    this.ring = new SimRing(moving, 'A');
    const faults = {
      dropProbability: prng.pick([0, 0.01, 0.05]),
      duplicateProbability: prng.pick([0, 0.01]),
      maxDelayTicks: prng.intBetween(0, 3),
      slowProbability: prng.pick([0, 0, 0.01]),
      slowDelayTicks: 40,
    };
    const groupConfig = {
      faults,
      maxFsyncTicks: prng.pick([1, 2, 4]),
      leaderTimeoutTicks: prng.pick([5, 10, 40]),
      logWindowRecords: prng.pick([4, 20, 1000]),
      snapshotEvery: prng.pick([5, 20, 1000]),
      // Drawn even when overridden, so an override changes nothing else in the seed's run.
      ringWatchProbability: overridden(prng.pick([1, 0.3, 0.05]), options.ringWatchProbability),
      refusals: options.refusals ?? 'confirmed',
    };
    this.groups = { A: new SimShardGroup('A', this, prng.fork(), groupConfig), B: new SimShardGroup('B', this, prng.fork(), groupConfig) };
    const clientCount = prng.intBetween(2, 5);
    this.clientCount = clientCount;
    this.clientRing = new Array<number>(clientCount).fill(this.ring.version);
    this.clientBusy = new Array<boolean>(clientCount).fill(false);
    this.opProbability = prng.pick([0.1, 0.3, 0.6]);
    this.movingKeyBias = prng.pick([0.5, 0.8]);
    this.routerWatchProbability = overridden(prng.pick([1, 0.2, 0.02]), options.routerWatchProbability);
    this.busDropProbability = prng.pick([0, 0.01, 0.03]);
    this.busMaxDelayTicks = prng.intBetween(0, 3);
    this.crashProbability = prng.pick([0, 0.003, 0.01, 0.02]);
    this.partitionProbability = prng.pick([0, 0.003, 0.01]);
    this.coordinatorCrashProbability = prng.pick([0, 0, 0.003, 0.01]);
    this.moveStartTick = prng.intBetween(20, 120);
    this.pageEntries = prng.pick([1, 2, 1000]);
    this.faultTicks = options.faultTicks ?? 500;
    this.quiesceTicks = options.quiesceTicks ?? 3000;
    const ranges = [rangeToText(moving)];
    this.plans.push({ spec: { id: 't1', from: 'A', to: 'B', ranges, toRingVersion: 2 }, state: 'moving' });
    if (prng.chance(0.3)) this.plans.push({ spec: { id: 't2', from: 'B', to: 'A', ranges, toRingVersion: 3 }, state: 'moving' });
    this.stats = {
      ticks: 0, keys: dirCount, movingKeys: this.movingKeys.length, moves: this.plans.length, movesDone: 0, moveAttempts: 0,
      coordinatorCrashes: 0, crashes: 0, partitions: 0, elections: 0, opsAcked: 0, opsPending: 0, opsFailed: 0, movedRetries: 0,
      lincheck: 'skipped',
    };
    this.sessions = options.sessions === true
      ? new SimSessions(this, prng, dirs, sorted.slice(first, last + 1), {
        routerWatchProbability: this.routerWatchProbability, dropProbability: this.busDropProbability,
        maxDelayTicks: this.busMaxDelayTicks, leaderTimeoutTicks: groupConfig.leaderTimeoutTicks,
      }, this.faultTicks, options.expiredAnswers)
      : undefined;
  }

  get expireWithoutAuthority(): boolean {
    return this.options.broken === 'expire-without-authority';
  }

  onApplied(node: GroupNode, zxid: number, result: TxnResult, closedOpenSession: boolean, first: boolean): void {
    this.sessions?.onApplied(node, zxid, result, closedOpenSession, first);
  }

  get now(): number {
    return this.scheduler.now;
  }

  event(text: string): void {
    this.events.push(`t=${this.now} ${text}`);
    if (this.events.length > 300 && this.options.trace !== true) this.events.shift();
  }

  fail(message: string): void {
    this.failures.push(message);
  }

  stop(): void {
    for (const group of Object.values(this.groups)) group.stop();
  }

  // ---- the run ----

  async run(): Promise<RebalanceSimResult> {
    try {
      while (this.now < this.faultTicks) await this.step();
      this.healAll();
      let quiet = false;
      for (let i = 0; i < this.quiesceTicks && !quiet; i++) {
        await this.step();
        quiet = this.plans.every((plan) => plan.state === 'done') && this.clientBusy.every((busy) => !busy) &&
          this.groups.A.quiescent() && this.groups.B.quiescent() && (this.sessions?.settled() ?? true);
      }
      if (!quiet) {
        const sessionProblem = this.sessions?.check();
        if (sessionProblem !== undefined) throw new SimulationFailure(sessionProblem);
        throw new SimulationFailure(`no quiescence within ${this.quiesceTicks} ticks after heal: plans ${this.plans.map((p) => `${p.spec.id} ${p.state}`).join(', ')}, ` +
          `ring v${this.ring.version}; ${this.groups.A.describe()}; ${this.groups.B.describe()}`);
      }
      const finals = await this.finalReads();
      this.checkAgreement();
      this.checkRingAndPlacement();
      this.checkNoLostWrite(finals);
      this.checkLinearizability();
      const sessionProblem = this.sessions?.check();
      if (sessionProblem !== undefined) throw new SimulationFailure(sessionProblem);
      return this.result(true);
    } catch (err) {
      const message = err instanceof Error ? `${err.message}${err instanceof SimulationFailure ? '' : `\n${err.stack ?? ''}`}` : String(err);
      return this.result(false, message);
    }
  }

  private async step(): Promise<void> {
    this.scheduler.now += 1;
    if (this.faultsOn) this.injectFaults();
    for (const group of Object.values(this.groups)) group.tick(this.faultsOn, this.crashProbability, this.partitionProbability);
    this.scheduler.runDue();
    this.sessions?.tick();
    for (let client = 0; client < this.clientRing.length; client++) {
      if (this.clientRing[client]! < this.ring.version && this.prng.chance(this.routerWatchProbability)) this.clientRing[client] = this.ring.version;
      if (this.faultsOn && !this.clientBusy[client] && this.prng.chance(this.opProbability)) void this.clientOp(client, this.randomInput(client));
    }
    if (this.now === this.moveStartTick) this.startCoordinator();
    await settleMicrotasks();
    if (this.failures.length > 0) throw new SimulationFailure(this.failures[0]!);
  }

  private injectFaults(): void {
    if (this.coordinatorRunning && this.prng.chance(this.coordinatorCrashProbability)) {
      this.coordinatorGeneration += 1;
      this.coordinatorRunning = false;
      this.stats.coordinatorCrashes += 1;
      const takeover = this.prng.intBetween(20, 80);
      this.event(`coordinator crash; a successor takes over in ${takeover} ticks`);
      this.scheduler.at(this.now + takeover, () => this.startCoordinator());
    }
  }

  private healAll(): void {
    this.faultsOn = false;
    for (const group of Object.values(this.groups)) group.heal();
    this.event('heal all');
    if (!this.coordinatorRunning && this.plans.some((plan) => plan.state !== 'done')) {
      // A successor may still be scheduled; it starts whichever comes first.
      this.scheduler.at(this.now + 1, () => this.startCoordinator());
    }
  }

  private result(ok: boolean, failure?: string): RebalanceSimResult {
    const s = this.stats;
    s.ticks = this.now;
    s.crashes = this.groups.A.crashes + this.groups.B.crashes;
    s.partitions = this.groups.A.partitions + this.groups.B.partitions;
    s.elections = this.groups.A.elections + this.groups.B.elections;
    s.movesDone = this.plans.filter((plan) => plan.state === 'done').length;
    const c = this.groups.A.config;
    const summary = `seed ${this.seed}: ${s.keys} keys (${s.movingKeys} moving), ${this.clientCount} clients, ${s.moves} move(s) from t=${this.moveStartTick}` +
      `${this.options.broken !== undefined ? ` BROKEN ${this.options.broken}` : ''}, ` +
      `drop ${c.faults.dropProbability}, delay<=${c.faults.maxDelayTicks}, crash p ${this.crashProbability}, partition p ${this.partitionProbability}, ` +
      `coordinator crash p ${this.coordinatorCrashProbability}, ring watch p ${c.ringWatchProbability}/${this.routerWatchProbability}, page ${this.pageEntries} | ` +
      `${s.crashes} crashes, ${s.partitions} partitions, ${s.elections} elections, ${s.coordinatorCrashes} coordinator crashes, ` +
      `${s.movesDone}/${s.moves} moves done in ${s.moveAttempts} attempts, ops acked/pending/failed ${s.opsAcked}/${s.opsPending}/${s.opsFailed}, ` +
      `${s.movedRetries} MOVED retries, lincheck ${s.lincheck}` +
      `${this.sessions === undefined ? '' : ` | ${this.sessions.describe()} | ${this.sessions.summary()}`}`;
    if (this.sessions !== undefined) s.sessions = { ...this.sessions.stats };
    return { seed: this.seed, ok, ...(failure !== undefined ? { failure } : {}), summary, events: this.events, stats: { ...s } };
  }

  // ---- the bus between routers/coordinator and the groups' leaders ----

  leaderOf(group: string): GroupNode | undefined {
    const leaders = this.groups[group as GroupName].leaders();
    return leaders.length === 0 ? undefined : this.prng.pick(leaders);
  }

  sleep(ticks: number): Promise<void> {
    return this.scheduler.sleep(ticks);
  }

  coordinatorAlive(generation: number): boolean {
    return this.coordinatorRunning && generation === this.coordinatorGeneration;
  }

  request<T>(node: GroupNode, serve: (node: GroupNode) => Promise<T>, timeout_ticks: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (done: () => void): void => {
        if (settled) return;
        settled = true;
        done();
      };
      this.scheduler.at(this.now + timeout_ticks, () => settle(() => reject(new ShardkvError('TIMEOUT', 'no answer in time'))));
      if (this.prng.chance(this.busDropProbability)) return;
      const incarnation = node.incarnation;
      const alive = (): boolean => node.engine !== undefined && node.incarnation === incarnation;
      const reply = (done: () => void): void => {
        if (!alive() || this.prng.chance(this.busDropProbability)) return;
        this.scheduler.at(this.now + this.prng.intBetween(0, this.busMaxDelayTicks), () => settle(done));
      };
      this.scheduler.at(this.now + this.prng.intBetween(0, this.busMaxDelayTicks), () => {
        if (!alive()) return;
        let served: Promise<T>;
        try {
          served = serve(node);
        } catch (err) {
          served = Promise.reject(err);
        }
        served.then((value) => reply(() => resolve(value)), (err: unknown) => reply(() => reject(err)));
      });
    });
  }

  // ---- the coordinator ----

  private startCoordinator(): void {
    if (this.coordinatorRunning || this.plans.every((plan) => plan.state === 'done')) return;
    this.coordinatorGeneration += 1;
    this.coordinatorRunning = true;
    const generation = this.coordinatorGeneration;
    this.event(`coordinator ${generation} starts`);
    void this.coordinate(generation);
  }

  private async coordinate(generation: number): Promise<void> {
    const client = new SimGroupLeaderClient(this, generation, { timeout_ticks: 200, attemptTimeout_ticks: 30 });
    for (let round = 0; round < 10_000 && this.coordinatorAlive(generation); round++) {
      const plan = this.plans.find((p) => p.state !== 'done');
      if (plan === undefined) {
        this.coordinatorRunning = false;
        return;
      }
      try {
        await this.execute(plan, client, generation);
      } catch (err) {
        if (err instanceof CoordinatorGone) return;
        this.event(`coordinator ${generation}: ${plan.spec.id} ${plan.state} failed: ${err instanceof Error ? err.message : String(err)}`);
        if (err instanceof Error && !(err instanceof ShardkvError) && !/target holds|kept changing/.test(err.message)) {
          this.fail(`unexpected error in the move: ${err.stack ?? err.message}`);
        }
        await this.sleep(COORDINATOR_POLL_TICKS);
      }
    }
  }

  /** RebalanceCoordinator.execute for a plan of one transfer. */
  private async execute(plan: Plan, client: SimGroupLeaderClient, generation: number): Promise<void> {
    const alive = (): void => {
      if (!this.coordinatorAlive(generation)) throw new CoordinatorGone('coordinator gone');
    };
    const spec = plan.spec;
    const mover = new RangeMover(client, spec, { rate_bytes_per_s: 0, pageEntries: this.pageEntries });
    if (plan.state === 'moving') {
      this.stats.moveAttempts += 1;
      this.event(`coordinator ${generation}: ${spec.id} ${spec.from}->${spec.to} copy (attempt ${this.stats.moveAttempts})`);
      await mover.copyAndTail();
      await mover.catchUp();
      alive();
      if (this.options.broken === 'skip-tail-to-fence') {
        await client.send(spec.from, { op: 'fenceRange', fenceId: mover.fenceId, ranges: spec.ranges, toRingVersion: spec.toRingVersion });
      } else if (this.options.broken !== 'skip-fence') {
        await mover.fenceAndFinish();
      }
      this.event(`coordinator ${generation}: ${spec.id} fenced and tailed`);
      await mover.verifyCounts();
      alive();
      plan.state = 'committing';
    }
    if (plan.state === 'committing') {
      alive();
      const from = spec.toRingVersion - 1;
      if (this.ring.commit(from, spec.to as GroupName)) this.event(`ring v${this.ring.version}: the range belongs to ${spec.to}`);
      else if (this.ring.version !== spec.toRingVersion) this.fail(`the ring is at v${this.ring.version}, plan ${spec.id} commits v${from} -> v${spec.toRingVersion}`);
      plan.state = 'dropping';
    }
    if (plan.state === 'dropping') {
      const deleted = await mover.drop();
      alive();
      plan.state = 'done';
      this.event(`coordinator ${generation}: ${spec.id} dropped ${deleted} keys on ${spec.from}; done`);
    }
  }

  // ---- clients (routers) ----

  private randomInput(client: number): KvInput {
    const key = this.prng.chance(this.movingKeyBias) ? this.prng.pick(this.movingKeys) : this.prng.pick(this.keys);
    const kind = this.prng.pick(['put', 'put', 'cas', 'get', 'get'] as const);
    if (kind === 'get') return { op: 'get', key };
    const value = `v${this.nextValue++}c${client}`;
    if (kind === 'put') return { op: 'put', key, value };
    // A cas mostly with the version last seen for the key anywhere in the history (often right).
    const seen = [...this.history].reverse().find((op) => op.input.key === key && op.output !== undefined && 'version' in op.output);
    const version = seen?.output !== undefined && 'version' in seen.output ? seen.output.version ?? 0 : 0;
    return { op: 'cas', key, expectedVersion: version + (this.prng.chance(0.2) ? 1 : 0), value };
  }

  /** ShardForwarder.send: route by the cached ring, follow MOVED, retry leaderless answers. */
  private async clientOp(client: number, input: KvInput): Promise<KvOperation> {
    this.clientBusy[client] = true;
    const op: KvOperation = { clientId: client, input, call: ++this.clock };
    this.history.push(op);
    const callTick = this.now;
    const deadline = this.now + OP_DEADLINE_TICKS;
    let moved = 0;
    let backoff_ticks = 2;
    let servedBy = '';
    const finish = (outcome: 'acked' | 'pending' | 'failed', output?: KvOutput): KvOperation => {
      this.clientBusy[client] = false;
      if (outcome === 'acked') this.event(`client ${client}: ${kvModel.describe({ ...op, return: this.clock + 1, output: output! })} by ${servedBy} (call t=${callTick})`);
      else this.event(`client ${client}: ${kvModel.describe(op)} ${outcome} (call t=${callTick}, last tried ${servedBy})`);
      if (outcome === 'acked') {
        op.return = ++this.clock;
        op.output = output!;
        this.stats.opsAcked += 1;
      } else if (outcome === 'failed') {
        // A definite refusal: the operation had no effect.
        this.history.splice(this.history.indexOf(op), 1);
        this.stats.opsFailed += 1;
      } else {
        this.stats.opsPending += 1;
      }
      return op;
    };
    for (let attempt = 0; attempt < 1000; attempt++) {
      const version = this.clientRing[client]!;
      const group = this.ring.ownerOfHash(fnv64(placementKeyOf(input.key)), version);
      try {
        const node = this.leaderOf(group);
        if (node === undefined) throw new ShardkvError('NO_LEADER', `no leader of ${group}`);
        servedBy = `${group}${node.id} at ring v${version}`;
        const output = await this.request(node, (target) => this.serveClient(target, input, version),
          Math.max(1, Math.min(ATTEMPT_TIMEOUT_TICKS, deadline - this.now)));
        return finish('acked', output);
      } catch (err) {
        if (!(err instanceof ShardkvError)) {
          this.fail(`client op failed unexpectedly: ${err instanceof Error ? err.stack : String(err)}`);
          return finish('pending');
        }
        if (err.code === 'MOVED') {
          this.stats.movedRetries += 1;
          if (++moved > MAX_MOVED_RETRIES) return finish('failed');
          const theirs = Number(err.details?.ringVersion ?? 0);
          if (theirs >= version) this.clientRing[client] = Math.max(this.clientRing[client]!, this.ring.version);
          else await this.sleep(Math.min(backoff_ticks, Math.max(1, deadline - this.now)));
          if (this.now >= deadline) return finish('failed');
          continue;
        }
        const leaderless = err.code === 'NO_LEADER' || err.code === 'NOT_LEADER';
        const retryable = leaderless || (input.op === 'get' && (err.code === 'TIMEOUT' || err.code === 'UNAVAILABLE' || err.code === 'CONNECTION_LOSS'));
        if (!retryable) {
          if (err.code === 'TIMEOUT' || err.code === 'CONNECTION_LOSS' || err.code === 'UNAVAILABLE') return finish('pending');
          this.fail(`client op ${kvModel.describe(op)} got ${err.code}: ${err.message}`);
          return finish('pending');
        }
        if (this.now + backoff_ticks >= deadline) {
          // Every attempt so far was refused before it could take effect (MOVED, leaderless; a read's timeout).
          return finish('failed');
        }
        await this.sleep(backoff_ticks);
        backoff_ticks = Math.min(backoff_ticks * 2, 25);
      }
    }
    return finish('pending');
  }

  /** ShardReplica.serveLeader for getData/setData/create, with the MOVED hold of a fenced key. */
  private async serveClient(node: GroupNode, input: KvInput, ringVersion: number): Promise<KvOutput> {
    if (!node.leading) throw new ShardkvError('NOT_LEADER', `this replica of ${node.group.name} is not the leader`);
    const group = node.group;
    try {
      const ring = group.ringAtLeast(node, ringVersion);
      const placementKey = placementKeyOf(input.key);
      const owner = ring.ownerOf(placementKey);
      if (owner !== group.name) {
        throw new ShardkvError('MOVED', `group ${group.name} does not own this key at ring version ${ring.version}`, { ringVersion: ring.version, owner });
      }
      node.rangeOps.checkNotFenced([placementKey]);
      if (input.op === 'get') {
        await group.readBarrier(node);
        const stored = node.tree.nodeAt(input.key);
        return stored === undefined ? { type: 'value', value: undefined, version: 0 } : { type: 'value', value: decoder.decode(stored.data), version: stored.version + 1 };
      }
      const { result } = await group.write(node, preparationOf(input));
      return { type: 'ok', version: writtenVersion(result) };
    } catch (err) {
      if (input.op === 'cas' && err instanceof ShardkvError && ['BAD_VERSION', 'NODE_EXISTS', 'NO_NODE'].includes(err.code)) {
        return { type: 'BAD_VERSION' };
      }
      return this.holdMoved(node, err);
    }
  }

  /** RangeOps.holdMoved in ticks: a fenced MOVED waits (bounded) for the ring that moves the key. */
  async holdMoved(node: GroupNode, err: unknown): Promise<never> {
    if (!(err instanceof ShardkvError && err.code === 'MOVED' && err.details?.fenced === true)) throw err;
    const target = Number(err.details.ringVersion);
    for (let waited = 0; waited < FENCE_HOLD_TICKS; waited++) {
      if (this.ring.version >= target) node.group.learnRing(node, this.ring.version);
      if (node.ringVersion >= target) {
        throw new ShardkvError('MOVED', `the key moved to another group at ring version ${node.ringVersion}`, { ringVersion: node.ringVersion });
      }
      await this.sleep(1);
    }
    throw err;
  }

  // ---- the end: final reads and checks ----

  private async finalReads(): Promise<Map<string, KvOperation>> {
    const finals = new Map<string, KvOperation>();
    const client = this.clientRing.length;
    this.clientRing.push(this.ring.version);
    this.clientBusy.push(false);
    for (const key of this.keys) {
      const done = this.clientOp(client, { op: 'get', key });
      let finished: KvOperation | undefined;
      void done.then((op) => {
        finished = op;
      });
      for (let i = 0; i < OP_DEADLINE_TICKS + 10 && finished === undefined; i++) await this.step();
      if (finished === undefined || isPending(finished) || !this.history.includes(finished)) {
        throw new SimulationFailure(`the final read of ${key} did not complete; ${this.groups.A.describe()}; ${this.groups.B.describe()}`);
      }
      finals.set(key, finished);
    }
    return finals;
  }

  private checkAgreement(): void {
    for (const group of Object.values(this.groups)) {
      const problem = group.checkAgreement();
      if (problem !== undefined) throw new SimulationFailure(problem);
    }
  }

  private checkRingAndPlacement(): void {
    const expected = 1 + this.plans.length;
    if (this.ring.version !== expected) throw new SimulationFailure(`the ring is at v${this.ring.version}, expected v${expected}`);
    for (const group of Object.values(this.groups)) {
      const tree = group.nodes[0]!.tree;
      // Fences stay as the record that a range left; at the final ring none may still refuse.
      const refusing = tree.fences().find((fence) => fence.toRingVersion > this.ring.version);
      if (refusing !== undefined) throw new SimulationFailure(`group ${group.name} still refuses with fence ${refusing.fenceId} (to v${refusing.toRingVersion})`);
      for (const key of this.keys) {
        const owner = this.ring.ownerOfHash(fnv64(placementKeyOf(key)), this.ring.version);
        if (owner !== group.name && tree.nodeAt(key) !== undefined) {
          throw new SimulationFailure(`group ${group.name} holds ${key}, which belongs to ${owner} at ring v${this.ring.version}`);
        }
      }
      if (this.ring.ownerOfHash(this.ring.moving.end, this.ring.version) !== group.name) {
        const left = group.nodes[0]!.rangeOps.exports.keysIn([this.ring.moving]);
        if (left.nodes.length + left.dirs.length > 0) {
          throw new SimulationFailure(`group ${group.name} still holds ${[...left.nodes, ...left.dirs].join(', ')} of the moved range`);
        }
      }
    }
  }

  /** The final read of each key shows its last acknowledged write, or a write that may have come after it. */
  private checkNoLostWrite(finals: Map<string, KvOperation>): void {
    for (const [key, final] of finals) {
      const writes = this.history.filter((op) => op !== final && op.input.key === key && op.input.op !== 'get' &&
        (isPending(op) || op.output?.type === 'ok'));
      const acked = writes.filter((op) => !isPending(op));
      const last = acked.reduce<KvOperation | undefined>((best, op) => (best === undefined || op.return! > best.return! ? op : best), undefined);
      const candidates = last === undefined ? writes : writes.filter((op) => isPending(op) || op === last || op.return! > last.call);
      const value = final.output?.type === 'value' ? final.output.value : undefined;
      const allowed = candidates.map((op) => (op.input as { value: string }).value);
      if (last === undefined && value === undefined) continue;
      if (value === undefined || !allowed.includes(value)) {
        throw new SimulationFailure(`lost write: the final read of ${key} shows ${JSON.stringify(value)}, ` +
          `but the last acknowledged write is ${last === undefined ? 'none' : kvModel.describe(last)} (allowed: ${allowed.join(', ') || 'nothing'})`);
      }
    }
  }

  private checkLinearizability(): void {
    const verdict = kvLinearizability(this.history, this.options.lincheckTimeout_ms ?? 5_000);
    this.stats.lincheck = verdict.lincheck;
    if (verdict.failure !== undefined) throw new SimulationFailure(verdict.failure);
  }
}

function overridden(drawn: number, override: number | undefined): number {
  return override ?? drawn;
}

function preparationOf(input: Exclude<KvInput, { op: 'get' }>): Preparation {
  const data = encoder.encode(input.value);
  const path = input.key;
  if (input.op === 'put') {
    return (preparer, context) => {
      try {
        return preparer.prepare({ op: 'setData', path, data, version: -1 }, context);
      } catch (err) {
        if (!(err instanceof ShardkvError && err.code === 'NO_NODE')) throw err;
        return preparer.prepare({ op: 'create', path, data, mode: 'persistent' }, context);
      }
    };
  }
  if (input.expectedVersion === 0) return (preparer, context) => preparer.prepare({ op: 'create', path, data, mode: 'persistent' }, context);
  return (preparer, context) => preparer.prepare({ op: 'setData', path, data, version: input.expectedVersion - 1 }, context);
}

function writtenVersion(result: TxnResult): number {
  if ((result.type === 'create' || result.type === 'setData') && 'stat' in result) return result.stat.version + 1;
  throw new ShardkvError('INTERNAL', `a client write applied as ${result.type}`);
}
