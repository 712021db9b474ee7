/**
 * A meta ensemble for integration tests and benchmarks: a real nats-server and N meta replicas,
 * each a separate OS process (`node dist/cli/main.js meta ...`) with its own data directory, all
 * under one unique subject prefix. Each replica's stderr (pino JSON lines) is appended to a log
 * file in the harness's temp directory, kept across restarts, for diagnosis (logTail).
 * stopAll() kills every process by pid, the nats-server too, and removes the temp directories;
 * register it with t.teardown right after start so nothing leaks when a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../logging/logger.js';
import { MetaClient } from '../../meta/meta-client.js';
import type { ReplicaStatus } from '../../protocol/meta.js';
import { connectNats, type NatsTransport } from '../../net/nats.js';
import { Subjects } from '../../net/subjects.js';
import type { Transport } from '../../net/transport.js';
import { startNatsServer, type NatsServerHandle } from './nats-server.js';
import { makeTempDir } from './tmpdir.js';
import { waitFor } from './wait.js';

/** This file compiles to <outDir>/test/support/meta-cluster.js; the CLI to <outDir>/cli/main.js. */
const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');

export interface MetaClusterOptions {
  /** Replica ids; default m1, m2, m3. */
  nodeIds?: string[];
  /** Extra flags for every replica, e.g. ['--snapshot-every', '50']. */
  replicaArgs?: string[];
  /** LOG_LEVEL of the replicas (their logs go to files). Default info. */
  replicaLogLevel?: string;
  /** Deadline for the first settled leader after start (process start-up included). Default 60 s. */
  leaderTimeout_ms?: number;
}

export interface LeaderInfo {
  id: string;
  status: ReplicaStatus;
}

interface RunningReplica {
  child: ChildProcess;
  exited: Promise<void>;
}

const logger: Logger = createLogger({ role: 'test' }, { level: process.env.LOG_LEVEL ?? 'error' });

export class MetaCluster {
  readonly nodeIds: readonly string[];
  readonly prefix: string;
  private readonly running = new Map<string, RunningReplica>();
  private readonly clients: Array<{ client: MetaClient; transport: NatsTransport }> = [];
  private readonly subjects: Subjects;
  private statusTransport: NatsTransport | undefined;
  private stopped = false;

  private constructor(
    readonly nats: NatsServerHandle,
    private readonly temp: { dir: string; cleanup: () => void },
    private readonly options: MetaClusterOptions,
  ) {
    this.nodeIds = options.nodeIds ?? ['m1', 'm2', 'm3'];
    this.prefix = `mt-${process.pid}-${randomBytes(4).toString('hex')}`;
    this.subjects = new Subjects(this.prefix);
  }

  /**
   * Starts nats-server and every replica, then waits for an established leader. On failure
   * everything started so far is stopped before the error is thrown.
   */
  static async start(options: MetaClusterOptions = {}): Promise<MetaCluster> {
    const nats = await startNatsServer();
    const cluster = new MetaCluster(nats, makeTempDir('meta-cluster'), options);
    try {
      cluster.statusTransport = await connectNats({ servers: nats.url, logger, name: 'meta-cluster-status' });
      for (const id of cluster.nodeIds) cluster.start(id);
      await cluster.settled(options.leaderTimeout_ms ?? 60_000);
      return cluster;
    } catch (err) {
      const logs = cluster.allLogTails(30);
      await cluster.stopAll();
      throw new Error(`${(err as Error).message}\n${logs}`);
    }
  }

  dataDir(nodeId: string): string {
    return join(this.temp.dir, 'data', nodeId);
  }

  logFile(nodeId: string): string {
    return join(this.temp.dir, `${nodeId}.log`);
  }

  isRunning(nodeId: string): boolean {
    return this.running.has(nodeId);
  }

  /** Node ids of the replicas that are running now. */
  get liveIds(): string[] {
    return this.nodeIds.filter((id) => this.running.has(id));
  }

  /** Spawns one replica (same data directory as any earlier run of it). */
  start(nodeId: string): void {
    if (this.stopped) throw new Error('meta cluster is stopped');
    if (!this.nodeIds.includes(nodeId)) throw new Error(`unknown replica ${nodeId}`);
    if (this.running.has(nodeId)) throw new Error(`replica ${nodeId} is already running`);
    mkdirSync(this.dataDir(nodeId), { recursive: true });
    const logFd = openSync(this.logFile(nodeId), 'a');
    const args = [
      CLI_MAIN, 'meta', '--id', nodeId, '--peers', this.nodeIds.join(','), '--nats', this.nats.url,
      '--data', this.dataDir(nodeId), '--prefix', this.prefix, ...(this.options.replicaArgs ?? []),
    ];
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, LOG_LEVEL: this.options.replicaLogLevel ?? 'info' },
    });
    closeSync(logFd); // the child has its own copy
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.running.set(nodeId, { child, exited });
    void exited.then(() => {
      if (this.running.get(nodeId)?.child === child) this.running.delete(nodeId);
    });
  }

  /** kill -9 of one replica, resolving once the process has exited. */
  async kill(nodeId: string): Promise<void> {
    const replica = this.running.get(nodeId);
    if (replica === undefined) return;
    this.running.delete(nodeId);
    if (replica.child.exitCode === null && replica.child.signalCode === null) replica.child.kill('SIGKILL');
    await replica.exited;
  }

  async restart(nodeId: string): Promise<void> {
    await this.kill(nodeId);
    this.start(nodeId);
  }

  /** One replica's status over its status subject (fails fast with UNAVAILABLE if it is down). */
  async status(nodeId: string, timeout_ms = 1_000): Promise<ReplicaStatus> {
    if (this.statusTransport === undefined) throw new Error('meta cluster is not started');
    return this.statusTransport.request<ReplicaStatus>(this.subjects.replicaStatus('meta', nodeId), { op: 'status' }, { timeout_ms });
  }

  /** Polls the running replicas until exactly one reports role leading and established. */
  async leader(timeout_ms = 10_000, poll_ms = 20): Promise<LeaderInfo> {
    return waitFor(`an established meta leader among ${this.liveIds.join(',')}`, async () => {
      const statuses = await Promise.all(this.liveIds.map((id) => this.status(id, 500).catch(() => undefined)));
      const leaders = statuses.filter((status): status is ReplicaStatus => status?.role === 'leading' && status.established);
      if (leaders.length !== 1) return undefined;
      const status = leaders[0] as ReplicaStatus;
      return { id: status.id, status };
    }, timeout_ms, poll_ms);
  }

  /**
   * Waits until one replica leads and every running replica has finished syncing with it
   * (follows it in its broadcast phase), so that losing any one of them keeps a quorum.
   */
  async settled(timeout_ms = 30_000): Promise<LeaderInfo> {
    return waitFor(`every running replica (${this.liveIds.join(',')}) following one established leader`, async () => {
      const statuses = await Promise.all(this.liveIds.map((id) => this.status(id, 500)));
      const leaders = statuses.filter((status) => status.role === 'leading' && status.established);
      if (leaders.length !== 1) return undefined;
      const leader = leaders[0] as ReplicaStatus;
      const synced = statuses.every((status) => status === leader || (status.role === 'following' && status.established && status.leader === leader.id));
      return synced ? { id: leader.id, status: leader } : undefined;
    }, timeout_ms, 50);
  }

  /** Waits until a replica has applied at least `zxid`. */
  async caughtUp(nodeId: string, zxid: number, timeout_ms = 15_000): Promise<ReplicaStatus> {
    return waitFor(`${nodeId} to apply zxid ${zxid}`, async () => {
      const status = await this.status(nodeId, 500);
      return status.appliedZxid >= zxid ? status : undefined;
    }, timeout_ms, 50);
  }

  /**
   * A MetaClient over its own NATS connection (optionally wrapped, e.g. to hold its requests);
   * closed by stopAll.
   */
  async client(options: { timeout_ms?: number; attemptTimeout_ms?: number; wrapTransport?: (transport: Transport) => Transport } = {}): Promise<MetaClient> {
    const { wrapTransport, ...timeouts } = options;
    const transport = await connectNats({ servers: this.nats.url, logger, name: 'meta-cluster-client' });
    const client = new MetaClient({ transport: wrapTransport?.(transport) ?? transport, prefix: this.prefix, logger, ...timeouts });
    this.clients.push({ client, transport });
    return client;
  }

  /** The last `lines` lines of a replica's log (all its runs), for failure messages. */
  logTail(nodeId: string, lines = 40): string {
    const file = this.logFile(nodeId);
    if (!existsSync(file)) return '';
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  }

  allLogTails(lines = 40): string {
    return this.nodeIds.map((id) => `--- ${id} (last ${lines} log lines)\n${this.logTail(id, lines)}`).join('\n');
  }

  /**
   * Kills every replica by pid, closes clients, stops nats-server, removes the temp dirs.
   * Idempotent. With keepLogs (pass `!t.passing()`), the replica logs are first copied to a
   * directory whose path is written to stderr, for diagnosis of a failed test.
   */
  async stopAll(options: { keepLogs?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all([...this.running.keys()].map((id) => this.kill(id)));
    for (const { client, transport } of this.clients.splice(0)) {
      // Transport first: close() then fails fast instead of retrying its goodbye to a dead ensemble.
      await transport.close().catch(() => undefined);
      await client.close().catch(() => undefined);
    }
    await this.statusTransport?.close().catch(() => undefined);
    await this.nats.stop();
    if (options.keepLogs === true) {
      const keep = mkdtempSync(join(tmpdir(), `shardkv-meta-logs-${this.prefix}-`));
      for (const id of this.nodeIds) if (existsSync(this.logFile(id))) copyFileSync(this.logFile(id), join(keep, `${id}.log`));
      process.stderr.write(`meta cluster ${this.prefix}: replica logs kept in ${keep}\n`);
    }
    this.temp.cleanup();
  }
}
