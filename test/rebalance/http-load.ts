/**
 * A bounded read+write load through a router's HTTP API (for the multi-process tests). Each
 * worker owns some keys, which only it writes (unconditional sets, and conditional sets with
 * the version it last saw); every worker reads every worker's keys with linearizable GETs, so
 * reads observe other clients' writes; each worker also appends sequential nodes to its own
 * directory.
 *
 * Every get and set goes into a HistoryRecorder (the test process sees every call and return,
 * so its logical clock gives the real-time order) for the linearizability checker, in the terms
 * of test/lincheck/kv-model.ts: a key's model version is its znode version + 1 (a created node
 * has version 0, model version 1). Outcomes:
 * - 2xx, and a set's 409 BAD_VERSION: the output the client saw.
 * - GET 404 NO_NODE: the key reads as never written (every key is created before the load).
 * - another 4xx: a refusal with no effect; left out of the history.
 * - 5xx, timeout, connection lost: unknown; the operation stays pending, and the key (or the
 *   sequential directory) is `uncertain`: its last acknowledgement is no longer a claim.
 */
import { HistoryRecorder } from '../lincheck/history-recorder.js';
import { kv, type KvInput, type KvOperation, type KvOutput } from '../lincheck/kv-model.js';
import { SeededRandom } from '../lincheck/seeded-random.js';
import { waitFor } from '../support/wait.js';

export interface Acked {
  value: string;
  version: number;
}

/** What a worker saw of a sequential directory: acknowledged names in order, and creates whose outcome is unknown. */
export interface SequentialDirectory {
  acked: string[];
  unknownCreates: number;
}

/** An output for the recorder: the model's, or a refusal that had no effect (dropped from the history). */
type RecordedOutput = KvOutput | { type: 'refused' };

interface Reply {
  status: number;
  json: Record<string, unknown>;
}

export interface HttpKvLoadOptions {
  workers: number;
  keysPerWorker: number;
  /** Bytes of filler in every value written (data for the rebalance to copy). Default 0. */
  valueBytes?: number;
  /** Bounds of one start()..stop(): operations per worker, and wall-clock time. */
  maxOpsPerWorker?: number;
  maxDuration_ms?: number;
  seed?: number;
}

const REQUEST_TIMEOUT_MS = 20_000;
/** Data longer than this enters the history as a short tag (the checker hashes and prints values). */
const VALUE_TAG_THRESHOLD = 64;

/** A value the load writes: a unique id, then filler bytes that give the rebalance data to copy. */
function padded(id: string, fillerBytes: number): string {
  return fillerBytes === 0 ? id : `${id}|${'x'.repeat(fillerBytes)}`;
}

/** The value as the history holds it: the id and the length for a padded one. */
export function valueTag(data: string): string {
  if (data.length <= VALUE_TAG_THRESHOLD) return data;
  const bar = data.indexOf('|');
  return `${bar === -1 ? data.slice(0, 32) : data.slice(0, bar)}|...${data.length}B`;
}

export class HttpKvLoad {
  readonly acked = new Map<string, Acked>();
  readonly uncertain = new Set<string>();
  readonly sequential = new Map<string, SequentialDirectory>();
  readonly errors: string[] = [];
  readonly latencies_ms: number[] = [];
  readonly counts = { reads: 0, sets: 0, cas: 0, badVersion: 0, creates: 0, refused: 0, unknown: 0 };
  private readonly recorder = new HistoryRecorder<KvInput, RecordedOutput>();
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(public router: string, private readonly options: HttpKvLoadOptions) {
    for (let w = 0; w < options.workers; w++) this.sequential.set(this.sequentialDir(w), { acked: [], unknownCreates: 0 });
  }

  keyPath(worker: number, key: number): string {
    return `/hl/d${worker}-${key % 16}/k${key}`;
  }

  sequentialDir(worker: number): string {
    return `/hseq/w${worker}`;
  }

  /** The recorded gets and sets, refusals left out, unfinished ones pending. */
  history(): KvOperation[] {
    return this.recorder.operations().filter((op): op is KvOperation => op.output?.type !== 'refused');
  }

  private async request(method: string, route: string, path: string, query: string, body?: string): Promise<Reply> {
    const response = await fetch(`${this.router}${route}${path}${query}`, {
      method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/octet-stream' } }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  async seed(): Promise<void> {
    for (let w = 0; w < this.options.workers; w++) {
      await Promise.all(Array.from({ length: this.options.keysPerWorker }, async (_, k) => {
        const path = this.keyPath(w, k);
        const value = padded(`v0-w${w}-k${k}`, this.options.valueBytes ?? 0);
        // A create of a node nobody else touches yet: in the model, the key's first write.
        const returned = this.recorder.begin(`seed-${w}`, kv.put(path, valueTag(value)));
        const { status, json } = await this.request('POST', '/v1/nodes', path, '?mode=persistent', value);
        if (status !== 201) throw new Error(`seed ${path}: ${status} ${JSON.stringify(json)}`);
        const version = (json.stat as { version: number }).version;
        returned(kv.ok(version + 1));
        this.acked.set(path, { value, version });
      }));
    }
  }

  start(): void {
    this.running = true;
    const deadline_ms = Date.now() + (this.options.maxDuration_ms ?? 300_000);
    this.workers = Array.from({ length: this.options.workers }, (_, w) => this.work(w, deadline_ms));
  }

  /** Resolves once `operations` more operations have completed (of any outcome) from now. */
  async progress(operations: number, timeout_ms = 60_000): Promise<void> {
    const target = this.latencies_ms.length + operations;
    await waitFor(`${operations} more load operations`, () => this.latencies_ms.length >= target, timeout_ms, 20);
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  private async work(worker: number, deadline_ms: number): Promise<void> {
    const maxOps = this.options.maxOpsPerWorker ?? 20_000;
    // Each worker its own sequence of choices (each start() begins it again).
    const random = new SeededRandom((this.options.seed ?? 1) * 1000 + worker);
    // The znode version this worker last saw of each of its keys (undefined: read it first).
    const known = new Map<string, number>();
    for (let k = 0; k < this.options.keysPerWorker; k++) known.set(this.keyPath(worker, k), this.acked.get(this.keyPath(worker, k))?.version ?? -1);
    for (let op = 0; this.running && op < maxOps && Date.now() < deadline_ms; op++) {
      const began = Date.now();
      const roll = random.next();
      if (roll < 0.4) {
        const owner = random.int(this.options.workers);
        await this.read(worker, this.keyPath(owner, random.int(this.options.keysPerWorker)), owner === worker ? known : undefined);
      } else if (roll < 0.55) {
        await this.createSequential(worker);
      } else {
        const path = this.keyPath(worker, random.int(this.options.keysPerWorker));
        const version = known.get(path);
        if (version === undefined) await this.read(worker, path, known);
        else {
          // Half the writes are conditional, and one in five of those expects a stale version (BAD_VERSION).
          const conditional = random.chance(0.5);
          const expected = !conditional ? -1 : random.chance(0.2) ? Math.max(0, version - 1) : version;
          await this.write(worker, path, padded(`w${worker}-op${op}`, this.options.valueBytes ?? 0), expected, known);
        }
      }
      this.latencies_ms.push(Date.now() - began);
    }
  }

  /** A linearizable GET, recorded; the version read goes into `known`. Undefined when no answer came. */
  private async read(worker: number | string, path: string, known?: Map<string, number>): Promise<Reply | undefined> {
    this.counts.reads += 1;
    const returned = this.recorder.begin(worker, kv.get(path));
    let reply: Reply;
    try {
      reply = await this.request('GET', '/v1/nodes', path, '?consistency=linearizable');
    } catch (err) {
      this.unknownOutcome((err as Error).message);
      return undefined;
    }
    const { status, json } = reply;
    if (status === 200) {
      const version = (json.stat as { version: number }).version;
      returned(kv.value(valueTag(String(json.data)), version + 1));
      known?.set(path, version);
    } else if (status === 404 && json.code === 'NO_NODE') {
      returned(kv.value(undefined, 0));
    } else {
      this.failed(status, json, returned);
    }
    return reply;
  }

  /** An unconditional set (expected -1) or a conditional one, recorded. */
  private async write(worker: number, path: string, value: string, expected: number, known: Map<string, number>): Promise<void> {
    if (expected === -1) this.counts.sets += 1;
    else this.counts.cas += 1;
    const tag = valueTag(value);
    const returned = this.recorder.begin(worker, expected === -1 ? kv.put(path, tag) : kv.cas(path, expected + 1, tag));
    let reply: Reply;
    try {
      reply = await this.request('PUT', '/v1/nodes', path, `?version=${expected}`, value);
    } catch (err) {
      this.unknownOutcome((err as Error).message, path);
      known.delete(path);
      return;
    }
    const { status, json } = reply;
    if (status === 200) {
      const version = (json.stat as { version: number }).version;
      returned(kv.ok(version + 1));
      this.acked.set(path, { value, version });
      known.set(path, version);
    } else if (status === 409 && json.code === 'BAD_VERSION') {
      this.counts.badVersion += 1;
      returned(kv.badVersion());
      known.delete(path);
    } else {
      this.failed(status, json, returned, path);
      known.delete(path);
    }
  }

  private async createSequential(worker: number): Promise<void> {
    this.counts.creates += 1;
    const dir = this.sequentialDir(worker);
    const seen = this.sequential.get(dir)!;
    let reply: Reply;
    try {
      reply = await this.request('POST', '/v1/nodes', `${dir}/n-`, '?mode=persistent_sequential', '');
    } catch (err) {
      seen.unknownCreates += 1;
      this.unknownOutcome((err as Error).message, dir);
      return;
    }
    if (reply.status === 201) seen.acked.push(String(reply.json.path));
    else {
      if (reply.status >= 500) seen.unknownCreates += 1;
      this.failed(reply.status, reply.json, undefined, dir);
    }
  }

  private failed(status: number, json: Record<string, unknown>, returned: ((output: RecordedOutput) => void) | undefined, uncertainKey?: string): void {
    if (status >= 500) {
      this.unknownOutcome(`${status} ${String(json.code)}: ${String(json.message)}`, uncertainKey);
      return;
    }
    this.counts.refused += 1;
    this.errors.push(`${status} ${String(json.code)}: ${String(json.message)}`);
    returned?.({ type: 'refused' });
  }

  private unknownOutcome(message: string, uncertainKey?: string): void {
    this.counts.unknown += 1;
    this.errors.push(message);
    if (uncertainKey !== undefined) this.uncertain.add(uncertainKey);
  }

  /**
   * Reads every key back (the reads join the history) and lists each sequential directory.
   * `keys`: each key whose read differs from its last acknowledgement (uncertain keys skipped).
   * `sequential`: each directory whose children are not exactly the suffixes 0..n-1 (no deletes
   * run, so ZooKeeper's would be gap-free even where a create's outcome is unknown), whose
   * acknowledged names are missing, out of order or, where no create's outcome is unknown, not
   * gap-free, or that has more children than creates that may have happened (one applied twice).
   */
  async verify(): Promise<{ keys: string[]; sequential: string[] }> {
    const keys: string[] = [];
    for (const [path, acked] of this.acked) {
      const reply = await this.read('verify', path);
      if (this.uncertain.has(path)) continue;
      const stat = reply?.json.stat as { version: number } | undefined;
      if (reply?.status !== 200 || reply.json.data !== acked.value || stat?.version !== acked.version) {
        keys.push(`${path}: ${reply?.status} ${String(reply?.json.data).slice(0, 20)} v${stat?.version}, acked ${acked.value.slice(0, 20)} v${acked.version}`);
      }
    }
    const sequential: string[] = [];
    for (const [dir, seen] of this.sequential) sequential.push(...(await this.verifySequential(dir, seen)));
    return { keys, sequential };
  }

  private async verifySequential(dir: string, seen: SequentialDirectory): Promise<string[]> {
    const { status, json } = await this.request('GET', '/v1/children', dir, '');
    if (status !== 200 && !(status === 404 && seen.acked.length === 0)) return [`${dir}: children answered ${status} ${String(json.code)}`];
    const children = ((json.children as string[] | undefined) ?? []).map((name) => Number(name.slice(-10))).sort((a, b) => a - b);
    const acked = seen.acked.map((name) => Number(name.slice(-10)));
    const wrong: string[] = [];
    if (children.some((suffix, i) => suffix !== i)) wrong.push(`${dir}: children suffixes are not 0..${children.length - 1}: ${children.join(',')}`);
    if (acked.some((suffix, i) => i > 0 && suffix <= acked[i - 1]!)) wrong.push(`${dir}: acknowledged names not increasing: ${acked.join(',')}`);
    if (seen.unknownCreates === 0 && acked.some((suffix, i) => suffix !== i)) wrong.push(`${dir}: acknowledged names have a gap: ${acked.join(',')}`);
    const present = new Set(children);
    const missing = acked.filter((suffix) => !present.has(suffix));
    if (missing.length > 0) wrong.push(`${dir}: acknowledged names missing: ${missing.join(',')}`);
    if (children.length > acked.length + seen.unknownCreates) {
      wrong.push(`${dir}: ${children.length} children, but only ${acked.length} acknowledged and ${seen.unknownCreates} unknown creates`);
    }
    return wrong;
  }
}
