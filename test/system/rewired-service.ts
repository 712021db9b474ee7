/**
 * One service of a ProcessCluster run by the test itself with a different --nats URL (e.g. a
 * NatsSwitchProxy), with the same flags, prefix, data directory and log file as the harness's
 * own run of it. Stop the harness's run first (cluster.kill): the harness then counts the service
 * as down (cluster.isRunning, cluster.leader skip it) and its stopAll does not stop this one, so
 * register stop() with t.teardown.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceArgs } from '../../cli/topology.js';
import type { ProcessCluster } from '../support/process-cluster.js';

/** This file compiles to <outDir>/test/system/rewired-service.js; the CLI to <outDir>/cli/main.js. */
const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'cli', 'main.js');

/** Children of this test process, killed on exit if a teardown never ran (a tap timeout). */
const everyChild = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of everyChild) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

/**
 * The harness keeps a service's data in <its temp dir>/data/<name> and its log in
 * <its temp dir>/logs/<name>.log; the log path is the public handle on that temp dir.
 */
function dataDirOf(cluster: ProcessCluster, name: string): string {
  return join(dirname(dirname(cluster.logFile(name))), 'data', name);
}

export class RewiredService {
  private readonly exited: Promise<void>;

  private constructor(readonly name: string, private readonly child: ChildProcess) {
    this.exited = new Promise<void>((resolve) => child.once('exit', () => {
      everyChild.delete(child);
      resolve();
    }));
  }

  /** Spawns `name` (not running under the harness) connected to NATS at natsUrl. */
  static start(cluster: ProcessCluster, name: string, natsUrl: string): RewiredService {
    if (cluster.isRunning(name)) throw new Error(`${name} is running under the harness: kill it first`);
    const service = cluster.services.find((candidate) => candidate.name === name);
    if (service === undefined || service.role === 'router') throw new Error(`${name} is not a replica of the cluster`);
    const data = dataDirOf(cluster, name);
    mkdirSync(data, { recursive: true });
    const logFd = openSync(cluster.logFile(name), 'a');
    const child = spawn(process.execPath, [CLI_MAIN, ...serviceArgs(service, { nats: natsUrl, prefix: cluster.prefix, data })], {
      stdio: ['ignore', logFd, logFd],
      env: { ...process.env, LOG_LEVEL: process.env.SHARDKV_SYSTEM_LOG_LEVEL ?? 'info' },
    });
    closeSync(logFd);
    everyChild.add(child);
    return new RewiredService(name, child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** kill -9, resolving once the process has exited. Idempotent. */
  async stop(): Promise<void> {
    if (this.running) this.child.kill('SIGKILL');
    await this.exited;
  }
}
