/**
 * A bounded write load for the system fault tests, with its checker. Workers create unique
 * keys (/load/w<worker>-<seq>) through the routers, rotating to the next router after a
 * failed attempt, and retry the transient failures (leader changes, a router or replica
 * restarting) until a per-write deadline. Every write the cluster acknowledged is recorded;
 * verify() reads each one back. A create retried after its first attempt landed answers
 * NODE_EXISTS: counted as acknowledged, and the value check at the end proves it.
 */
import { ShardkvClient, ShardkvClientError } from '../../client/index.js';

/** Failures a client may retry: the cluster is changing, not the request wrong. */
export const TRANSIENT_CODES = new Set(['NOT_LEADER', 'NO_LEADER', 'UNAVAILABLE', 'TIMEOUT', 'MOVED', 'CONNECTION_LOSS', 'REBALANCE_IN_PROGRESS']);

export const LOAD_ROOT = '/load';

export interface WriteLoadOptions {
  routers: string[];
  workers: number;
  /** Upper bound on the writes of the whole run (the load is bounded even if nobody stops it). */
  maxWrites: number;
  /** How long one write may keep retrying before it counts as failed. */
  writeDeadline_ms: number;
  /** Pause between a worker's writes, to keep the load light on a 2-core machine. */
  pause_ms: number;
}

export interface WriteLoadReport {
  acknowledged: number;
  /** Writes that exhausted their deadline (indeterminate: they may or may not have landed). */
  failed: Array<{ path: string; error: string }>;
  /** Attempts that failed with a transient code and were retried. */
  retries: number;
  /** Answers that are neither success nor transient: a bug. */
  unexpected: Array<{ path: string; error: string }>;
}

export interface LostWrite {
  path: string;
  problem: string;
}

/**
 * Transient: a code in TRANSIENT_CODES, or any 503. A router shutting down (SIGTERM) answers
 * requests that arrive during close with Fastify's own 503 body, without a shardkv code.
 */
export function isTransient(err: unknown): boolean {
  return err instanceof ShardkvClientError && (TRANSIENT_CODES.has(err.code) || err.status === 503);
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const valueOf = (path: string): string => `value of ${path}`;

export class WriteLoad {
  private readonly clients: ShardkvClient[];
  private readonly acknowledged: string[] = [];
  private readonly report: WriteLoadReport = { acknowledged: 0, failed: [], retries: 0, unexpected: [] };
  private stopping = false;
  private issued = 0;
  private running: Promise<void> | undefined;

  constructor(private readonly options: WriteLoadOptions) {
    this.clients = options.routers.map((url) => new ShardkvClient({ url, timeout_ms: 5_000 }));
  }

  /** Creates the load's root (retrying like any write) and starts the workers. */
  async start(): Promise<void> {
    await this.write(LOAD_ROOT, 0, true);
    this.running = Promise.all(Array.from({ length: this.options.workers }, (_, worker) => this.worker(worker))).then(() => undefined);
  }

  get acknowledgedCount(): number {
    return this.acknowledged.length;
  }

  /** Stops issuing writes and waits for the ones in flight. */
  async stop(): Promise<WriteLoadReport> {
    this.stopping = true;
    await this.running;
    return { ...this.report, acknowledged: this.acknowledged.length };
  }

  /** Reads every acknowledged write back (through each router in turn) and lists the missing or wrong ones. */
  async verify(): Promise<LostWrite[]> {
    const lost: LostWrite[] = [];
    for (const [index, path] of this.acknowledged.entries()) {
      const client = this.clients[index % this.clients.length] as ShardkvClient;
      try {
        const node = await this.retrying(() => client.get(path));
        if (node.text !== valueOf(path)) lost.push({ path, problem: `holds ${String(node.text)}` });
      } catch (err) {
        lost.push({ path, problem: (err as Error).message });
      }
    }
    return lost;
  }

  private async worker(worker: number): Promise<void> {
    for (let seq = 0; !this.stopping && this.issued < this.options.maxWrites; seq++) {
      this.issued++;
      await this.write(`${LOAD_ROOT}/w${worker}-${String(seq).padStart(5, '0')}`, worker + seq, false);
      if (this.options.pause_ms > 0) await sleep(this.options.pause_ms);
    }
  }

  private async write(path: string, firstRouter: number, isRoot: boolean): Promise<void> {
    const deadline = Date.now() + this.options.writeDeadline_ms;
    let lastError = '';
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const client = this.clients[(firstRouter + attempt) % this.clients.length] as ShardkvClient;
      try {
        await client.create(path, isRoot ? '' : valueOf(path));
        if (!isRoot) this.acknowledged.push(path);
        return;
      } catch (err) {
        if (err instanceof ShardkvClientError && err.code === 'NODE_EXISTS' && (attempt > 0 || isRoot)) {
          if (!isRoot) this.acknowledged.push(path);
          return;
        }
        lastError = err instanceof ShardkvClientError ? `${err.code}: ${err.message}` : String(err);
        if (!isTransient(err)) {
          this.report.unexpected.push({ path, error: lastError });
          if (isRoot) throw err;
          return;
        }
        this.report.retries++;
        await sleep(Math.min(50 * 2 ** Math.min(attempt, 4), 500));
      }
    }
    if (isRoot) throw new Error(`could not create ${path}: ${lastError}`);
    this.report.failed.push({ path, error: lastError });
  }

  private async retrying<T>(action: () => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.options.writeDeadline_ms;
    for (let attempt = 0; ; attempt++) {
      try {
        return await action();
      } catch (err) {
        if (!isTransient(err) || Date.now() >= deadline) throw err;
        await sleep(Math.min(50 * 2 ** Math.min(attempt, 4), 500));
      }
    }
  }
}
