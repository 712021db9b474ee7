/**
 * The whole sharded topology for integration tests and benchmarks, every service a separate OS
 * process: a real nats-server, then the services that `shardkv up` starts (cli/topology.ts:
 * describeTopology + serviceArgs, so tests run the same topology), each `node dist/cli/main.js
 * <role> ...` with its own data directory, all under one unique subject prefix, every router on
 * its own free port. Each service's stdout and stderr (pino JSON lines, and the CLI's fatal
 * message) go to a log file in the harness's temp directory, kept across restarts (logTail).
 * stopAll() kills every process by pid, nats-server too, and removes the temp directory:
 * ProcessCluster.startFor(t, ...) registers it with t.teardown and prints the log tails when
 * the test failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeTopology, serviceArgs, type ServiceSpec } from '../../cli/topology.js';
import { createLogger, type Logger } from '../../logging/logger.js';
import { MetaClient } from '../../meta/meta-client.js';
import { connectNats, type NatsTransport } from '../../net/nats.js';
import { Subjects } from '../../net/subjects.js';
import type { ShardReplyHeader, ShardRequest } from '../../protocol/shard.js';
import { Ring, RingHasher } from '../../ring/index.js';
import type { TreeReplicaStatus } from '../../replica/tree-replica.js';
import { freePort, startNatsServer, type NatsServerHandle } from './nats-server.js';
import { makeTempDir } from './tmpdir.js';
import { waitFor } from './wait.js';

/** This file compiles to <outDir>/test/support/process-cluster.js; the CLI to <outDir>/cli/main.js. */
const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');

export interface ProcessClusterOptions {
  /** Shard groups on the ring. Default g1, g2. */
  groups?: string[];
  /** Routers (router-1, router-2, ...), each on its own free port. Default 1. */
  routers?: number;
  /** LOG_LEVEL of the services (their logs go to files). Default info. */
  logLevel?: string;
  /** Deadline for routers healthy, every group on the ring and every group led. Default 120 s. */
  start_timeout_ms?: number;
}

export type ShardReplicaStatus = TreeReplicaStatus & { group: string; ringVersion: number };

/** What startFor needs of a tap test. */
export interface TeardownHost {
  teardown(fn: () => unknown): void;
  passing(): boolean;
  comment(...message: unknown[]): void;
}

interface RunningService {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Restarts of one service that ready() allows while the cluster starts. */
const MAX_STARTUP_RESTARTS = 3;

const logger: Logger = createLogger({ role: 'test' }, { level: process.env.LOG_LEVEL ?? 'error' });

/** Processes of every cluster of this test process, killed on exit if a teardown never ran. */
const everyChild = new Set<ChildProcess>();
function killEveryChild(): void {
  for (const child of everyChild) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.once('exit', killEveryChild);
// A test timeout ends the process by a signal (tap: SIGALRM or SIGTERM), which skips 'exit'.
for (const signal of ['SIGALRM', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killEveryChild();
    process.kill(process.pid, signal); // the handler is gone: the signal's default action ends us
  });
}

export class ProcessCluster {
  readonly prefix: string;
  readonly groups: readonly string[];
  readonly services: readonly ServiceSpec[];
  private readonly subjects: Subjects;
  private readonly running = new Map<string, RunningService>();
  private readonly routerPorts = new Map<string, number>();
  private readonly metaClients: MetaClient[] = [];
  private transport: NatsTransport | undefined;
  private hasher: RingHasher | undefined;
  private stopped = false;

  private constructor(
    readonly nats: NatsServerHandle,
    private readonly temp: { dir: string; cleanup: () => void },
    private readonly options: ProcessClusterOptions,
  ) {
    this.prefix = `pc-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.subjects = new Subjects(this.prefix);
    this.groups = options.groups ?? ['g1', 'g2'];
    this.services = describeTopology({ groups: [...this.groups], routers: options.routers ?? 1 });
  }

  /**
   * Starts nats-server and every service, then waits until every router is healthy with every
   * group on its ring and every group has an established leader. On failure everything started
   * so far is stopped and the error carries the log tails.
   */
  static async start(options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const nats = await startNatsServer();
    const cluster = new ProcessCluster(nats, makeTempDir('process-cluster'), options);
    everyChild.add(nats.process);
    try {
      cluster.transport = await connectNats({ servers: nats.url, logger, name: 'process-cluster' });
      cluster.hasher = await RingHasher.create();
      for (const router of cluster.routerNames) cluster.routerPorts.set(router, await freePort());
      for (const service of cluster.services) cluster.start(service.name);
      await cluster.ready(options.start_timeout_ms ?? 120_000);
      return cluster;
    } catch (err) {
      const tails = cluster.allLogTails(15);
      await cluster.stopAll();
      throw new Error(`${(err as Error).message}\n${tails}`);
    }
  }

  /** start() whose stopAll is a teardown of `t`; the log tails are printed if `t` failed. */
  static async startFor(t: TeardownHost, options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const cluster = await ProcessCluster.start(options);
    t.teardown(async () => {
      if (!t.passing()) t.comment(cluster.allLogTails(20));
      await cluster.stopAll();
    });
    return cluster;
  }

  get routerNames(): string[] {
    return this.services.filter((service) => service.role === 'router').map((service) => service.name);
  }

  /** Service names of a group's replicas, e.g. shard-g1-r1. */
  replicaName(group: string, id: string): string {
    return `shard-${group}-${id}`;
  }

  replicaIds(group: string): string[] {
    return this.services.filter((service) => service.role === 'shard' && service.flags.group === group).map((service) => service.flags.id as string);
  }

  routerUrl(name = 'router-1'): string {
    const port = this.routerPorts.get(name);
    if (port === undefined) throw new Error(`unknown router ${name}`);
    return `http://127.0.0.1:${port}`;
  }

  isRunning(name: string): boolean {
    return this.running.has(name);
  }

  pid(name: string): number {
    const pid = this.running.get(name)?.child.pid;
    if (pid === undefined) throw new Error(`${name} is not running`);
    return pid;
  }

  logFile(name: string): string {
    return join(this.temp.dir, 'logs', `${name}.log`);
  }

  /** Spawns one service (a stateful one reuses its data directory). */
  start(name: string): void {
    if (this.stopped) throw new Error('process cluster is stopped');
    const service = this.services.find((candidate) => candidate.name === name);
    if (service === undefined) throw new Error(`unknown service ${name}`);
    if (this.running.has(name)) throw new Error(`${name} is already running`);
    const extra: Record<string, string> = { nats: this.nats.url, prefix: this.prefix };
    if (service.stateful) {
      extra.data = join(this.temp.dir, 'data', name);
      mkdirSync(extra.data, { recursive: true });
    }
    if (service.role === 'router') extra.port = String(this.routerPorts.get(name));
    mkdirSync(dirname(this.logFile(name)), { recursive: true });
    const logFd = openSync(this.logFile(name), 'a');
    const child = spawn(process.execPath, [CLI_MAIN, ...serviceArgs(service, extra)], {
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, LOG_LEVEL: this.options.logLevel ?? 'info' },
    });
    closeSync(logFd); // the child has its own copy
    everyChild.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => {
      everyChild.delete(child);
      resolve();
    }));
    this.running.set(name, { child, exited });
    void exited.then(() => {
      if (this.running.get(name)?.child === child) this.running.delete(name);
    });
  }

  /** kill -9 of one service, resolving once the process has exited. */
  async kill(name: string): Promise<void> {
    const service = this.running.get(name);
    if (service === undefined) return;
    this.running.delete(name);
    if (service.child.exitCode === null && service.child.signalCode === null) service.child.kill('SIGKILL');
    await service.exited;
  }

  async restart(name: string): Promise<void> {
    await this.kill(name);
    this.start(name);
  }

  /** SIGSTOP / SIGCONT: a service that is alive but does nothing (a long GC pause, a stuck host). */
  pause(name: string): void {
    process.kill(this.pid(name), 'SIGSTOP');
  }

  resume(name: string): void {
    process.kill(this.pid(name), 'SIGCONT');
  }

  /** One shard replica's status over its status subject (fails fast if it is down). */
  async status(group: string, id: string, timeout_ms = 1_000): Promise<ShardReplicaStatus> {
    return this.nc.request<ShardReplicaStatus>(this.subjects.replicaStatus(group, id), { op: 'status' }, { timeout_ms });
  }

  /** Polls the group's running replicas until exactly one reports leading and established. */
  async leader(group: string, timeout_ms = 20_000): Promise<ShardReplicaStatus> {
    return waitFor(`an established leader of ${group}`, async () => {
      const ids = this.replicaIds(group).filter((id) => this.isRunning(this.replicaName(group, id)));
      const statuses = await Promise.all(ids.map((id) => this.status(group, id, 500).catch(() => undefined)));
      const leaders = statuses.filter((status): status is ShardReplicaStatus => status?.role === 'leading' && status.established);
      return leaders.length === 1 ? leaders[0] : undefined;
    }, timeout_ms, 50);
  }

  /** A shard request straight to a group's leader subject over NATS (no router); MOVED etc. are thrown as ShardkvError. */
  async shardRequest<Reply extends ShardReplyHeader>(group: string, request: ShardRequest, timeout_ms = 5_000): Promise<Reply> {
    return this.nc.request<Reply>(this.subjects.groupLeader(group), request, { timeout_ms, noRespondersCode: 'NO_LEADER' });
  }

  /** The ring as the meta tree holds it (GET /v1/meta/ring through a router). */
  async ring(router = 'router-1'): Promise<Ring> {
    const response = await fetch(`${this.routerUrl(router)}/v1/meta/ring`);
    if (!response.ok) throw new Error(`GET /v1/meta/ring answered ${response.status}: ${await response.text()}`);
    const body = (await response.json()) as { data: string };
    return Ring.fromJSON(JSON.parse(body.data), this.ringHasher);
  }

  get ringHasher(): RingHasher {
    if (this.hasher === undefined) throw new Error('process cluster is not started');
    return this.hasher;
  }

  /** A MetaClient on the harness's NATS connection (for changes behind the routers' backs); closed by stopAll. */
  metaClient(): MetaClient {
    const client = new MetaClient({ transport: this.nc, prefix: this.prefix, logger });
    this.metaClients.push(client);
    return client;
  }

  /** Waits until a router answers /healthz with every group of the cluster on its ring. */
  async routerReady(name: string, timeout_ms = 60_000): Promise<void> {
    await waitFor(`${name} healthy with ${this.groups.join(',')} on its ring`, async () => {
      const health = await fetch(`${this.routerUrl(name)}/healthz`);
      if (!health.ok) return false;
      const ring = (await (await fetch(`${this.routerUrl(name)}/v1/ring`)).json()) as { groups: Array<{ id: string }> };
      return this.groups.every((group) => ring.groups.some((candidate) => candidate.id === group));
    }, timeout_ms, 100);
  }

  /**
   * Waits for the cluster to serve. Like a supervisor (compose's restart: on-failure), it
   * restarts a service that exited during start-up, at most MAX_STARTUP_RESTARTS times each: on
   * an overloaded machine a router or replica can give up waiting for a meta leader.
   */
  private async ready(timeout_ms: number): Promise<void> {
    const deadline = Date.now() + timeout_ms;
    const restarts = new Map<string, number>();
    const supervise = setInterval(() => {
      for (const service of this.services) {
        if (this.running.has(service.name) || this.stopped) continue;
        const count = restarts.get(service.name) ?? 0;
        if (count >= MAX_STARTUP_RESTARTS) continue;
        restarts.set(service.name, count + 1);
        this.start(service.name);
      }
    }, 500);
    try {
      const left = (): number => Math.max(1_000, deadline - Date.now());
      for (const router of this.routerNames) await this.routerReady(router, left());
      for (const group of this.groups) await this.leader(group, left());
      // Every replica up, not only a quorum: a late one would otherwise start (or die) mid-test.
      for (const group of this.groups) {
        for (const id of this.replicaIds(group)) {
          await waitFor(`${group}/${id} to answer its status`, () => this.status(group, id, 500), left(), 100);
        }
      }
    } finally {
      clearInterval(supervise);
    }
  }

  private get nc(): NatsTransport {
    if (this.transport === undefined) throw new Error('process cluster is not started');
    return this.transport;
  }

  /** The last `lines` lines of a service's log (all its runs), for failure messages. */
  logTail(name: string, lines = 40): string {
    const file = this.logFile(name);
    if (!existsSync(file)) return '';
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  allLogTails(lines = 40): string {
    return this.services.map((service) => `--- ${service.name} (last ${lines} log lines)\n${this.logTail(service.name, lines)}`).join('\n');
  }

  /** Kills every service by pid, closes the harness's NATS connection, stops nats-server, removes the temp dir. Idempotent. */
  async stopAll(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.running.keys()].map((name) => this.kill(name)));
    for (const client of this.metaClients.splice(0)) await client.close().catch(() => undefined);
    await this.transport?.close().catch(() => undefined);
    await this.nats.stop();
    everyChild.delete(this.nats.process);
    this.temp.cleanup();
  }
}
