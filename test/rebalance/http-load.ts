/**
 * A bounded write load through a router's HTTP API (for the multi-process tests): each worker
 * sets its own keys one after another and appends sequential nodes to its own directory.
 * Records every acknowledgement; a request whose outcome is unknown (timeout, connection lost)
 * ends the test's claim on that key (kept in `uncertain`).
 */
export interface Acked {
  value: string;
  version: number;
}

export class HttpWriteLoad {
  readonly acked = new Map<string, Acked>();
  readonly uncertain = new Set<string>();
  readonly sequential = new Map<string, string[]>();
  readonly errors: string[] = [];
  readonly latencies_ms: number[] = [];
  private running = false;
  private workers: Promise<void>[] = [];

  constructor(
    public router: string,
    private readonly options: { workers: number; keysPerWorker: number; valueBytes?: number },
  ) {}

  keyPath(worker: number, key: number): string {
    return `/hl/d${worker}-${key % 5}/k${key}`;
  }

  private async request(method: string, path: string, query: string, body?: string): Promise<{ status: number; json: Record<string, unknown> }> {
    const response = await fetch(`${this.router}/v1/nodes${path}${query}`, {
      method, ...(body === undefined ? {} : { body, headers: { 'content-type': 'application/octet-stream' } }),
      signal: AbortSignal.timeout(20_000),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  async seed(): Promise<void> {
    const filler = 'x'.repeat(this.options.valueBytes ?? 0);
    for (let w = 0; w < this.options.workers; w++) {
      await Promise.all(Array.from({ length: this.options.keysPerWorker }, async (_, k) => {
        const path = this.keyPath(w, k);
        const value = `v0${filler}`;
        const { status, json } = await this.request('POST', path, '?mode=persistent', value);
        if (status !== 201) throw new Error(`seed ${path}: ${status} ${JSON.stringify(json)}`);
        this.acked.set(path, { value, version: (json.stat as { version: number }).version });
      }));
    }
  }

  start(): void {
    this.running = true;
    this.workers = Array.from({ length: this.options.workers }, (_, w) => this.work(w));
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.workers);
  }

  private async work(worker: number): Promise<void> {
    const dir = `/hseq/w${worker}`;
    this.sequential.set(dir, []);
    for (let op = 0; this.running && op < 1_000_000; op++) {
      const began = Date.now();
      const sequential = op % 4 === 3;
      const path = sequential ? `${dir}/n-` : this.keyPath(worker, op % this.options.keysPerWorker);
      const value = `w${worker}-op${op}`;
      try {
        const { status, json } = sequential
          ? await this.request('POST', path, '?mode=persistent_sequential', '')
          : await this.request('PUT', path, '?version=-1', value);
        if (status >= 300) {
          this.errors.push(`${status} ${String(json.code)}: ${String(json.message)}`);
          // A 5xx after the request reached a group may or may not have happened.
          if (status >= 500) this.uncertain.add(sequential ? dir : path);
          continue;
        }
        if (sequential) this.sequential.get(dir)!.push(String(json.path));
        else this.acked.set(path, { value, version: (json.stat as { version: number }).version });
        this.latencies_ms.push(Date.now() - began);
      } catch (err) {
        this.errors.push((err as Error).message);
        this.uncertain.add(sequential ? dir : path);
      }
    }
  }

  /** Keys whose read-back differs from the last acknowledgement (uncertain keys skipped). */
  async verify(): Promise<string[]> {
    const wrong: string[] = [];
    for (const [path, acked] of this.acked) {
      if (this.uncertain.has(path)) continue;
      const { status, json } = await this.request('GET', path, '');
      const stat = json.stat as { version: number } | undefined;
      if (status !== 200 || json.data !== acked.value || stat?.version !== acked.version) {
        wrong.push(`${path}: ${status} ${String(json.data).slice(0, 20)} v${stat?.version}, acked ${acked.value.slice(0, 20)} v${acked.version}`);
      }
    }
    return wrong;
  }
}
