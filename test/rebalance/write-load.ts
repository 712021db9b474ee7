/**
 * A bounded write load for the rebalance tests: each worker owns its own keys and sets them one
 * after another through the forwarder (so the last acknowledged value of a key is its final
 * value), and appends sequential nodes to its own directory. Records every acknowledgement.
 */
import type { ShardWriteReply } from '../../protocol/shard.js';
import type { ShardForwarder } from '../../router/shard-forwarder.js';
import { placementKey } from '../../ring/path.js';

export interface Acked {
  value: string;
  version: number;
}

export class WriteLoad {
  readonly acked = new Map<string, Acked>();
  /** Sequential nodes created, by directory. */
  readonly sequential = new Map<string, string[]>();
  readonly errors: string[] = [];
  latencies_ms: number[] = [];
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(
    private readonly forwarder: ShardForwarder,
    private readonly options: { workers: number; keysPerWorker: number; maxOps: number },
  ) {}

  /** Creates every key once (version 0), so later sets have a version to check. */
  async seed(): Promise<void> {
    for (let w = 0; w < this.options.workers; w++) {
      await Promise.all(Array.from({ length: this.options.keysPerWorker }, async (_, k) => {
        const path = this.keyPath(w, k);
        const reply = await this.forwarder.send<ShardWriteReply>(placementKey(path), {
          op: 'create', path, data: new TextEncoder().encode('v0'), mode: 'persistent', sessionId: 0,
        }, false);
        if (reply.result.type !== 'create') throw new Error(`create ${path}: ${reply.result.type}`);
        this.acked.set(path, { value: 'v0', version: reply.result.stat.version });
      }));
    }
  }

  keyPath(worker: number, key: number): string {
    return `/load/d${worker}-${key % 7}/k${key}`;
  }

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.options.workers }, (_, w) => this.work(w));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  get ops(): number {
    return this.latencies_ms.length;
  }

  private async work(worker: number): Promise<void> {
    const seqDir = `/seq/w${worker}`;
    this.sequential.set(seqDir, []);
    for (let op = 0; this.running && op < this.options.maxOps; op++) {
      const began = Date.now();
      try {
        if (op % 4 === 3) {
          const reply = await this.forwarder.send<ShardWriteReply>(seqDir, {
            op: 'create', path: `${seqDir}/n-`, data: new Uint8Array(0), mode: 'persistent_sequential', sessionId: 0,
          }, false);
          if (reply.result.type === 'create') this.sequential.get(seqDir)!.push(reply.result.path);
        } else {
          const path = this.keyPath(worker, op % this.options.keysPerWorker);
          const value = `w${worker}-op${op}`;
          const reply = await this.forwarder.send<ShardWriteReply>(placementKey(path), {
            op: 'setData', path, data: new TextEncoder().encode(value), version: -1,
          }, false);
          if (reply.result.type === 'setData') this.acked.set(path, { value, version: reply.result.stat.version });
        }
        this.latencies_ms.push(Date.now() - began);
      } catch (err) {
        this.errors.push(`${(err as Error).message}`);
      }
    }
  }
}
