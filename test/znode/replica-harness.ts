/**
 * A one-replica driver for the znode tests: prepare on the "leader", pass the txn through
 * msgpack (as the log would), apply it with the next zxid, clear the pending change.
 */
import { pack, unpack } from 'msgpackr';
import {
  TxnPreparer,
  ZnodeTree,
  type ApplyOutcome,
  type CreateMode,
  type Request,
  type Txn,
  type ZnodeTreeOptions,
} from '../../znode/index.js';

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const text = (data: Uint8Array): string => new TextDecoder().decode(data);

export interface Written extends ApplyOutcome {
  txn: Txn;
  zxid: number;
}

export class ReplicaHarness {
  readonly tree: ZnodeTree;
  readonly preparer: TxnPreparer;
  /** Every committed txn with its zxid and time, in order (the log). */
  readonly log: Array<{ txn: Txn; zxid: number; time_ms: number }> = [];
  zxid = 0;
  now_ms = 1_000;

  constructor(options: ZnodeTreeOptions = { hierarchy: 'strict' }) {
    this.tree = new ZnodeTree(options);
    this.preparer = new TxnPreparer(this.tree);
  }

  /** Prepares, encodes, decodes and applies one request. */
  write(request: Request, sessionId = 0): Written {
    const zxid = this.zxid + 1;
    const prepared = this.preparer.prepare(request, { zxid, sessionId, now_ms: this.now_ms });
    this.zxid = zxid;
    const txn = unpack(pack(prepared)) as Txn;
    return { txn, zxid, ...this.commit(txn, zxid) };
  }

  /** Applies a txn prepared earlier (pipelining tests). */
  commit(txn: Txn, zxid: number): ApplyOutcome {
    this.log.push({ txn, zxid, time_ms: this.now_ms });
    const outcome = this.tree.apply(txn, zxid, this.now_ms);
    this.preparer.committed(zxid);
    return outcome;
  }

  create(path: string, data = '', mode: CreateMode = 'persistent', sessionId = 0, ttl_ms?: number): string {
    const request: Request = { op: 'create', path, data: bytes(data), mode };
    if (ttl_ms !== undefined) request.ttl_ms = ttl_ms;
    const { result } = this.write(request, sessionId);
    if (result.type !== 'create') throw new Error(`create of ${path} gave ${result.type}`);
    return result.path;
  }

  setData(path: string, data: string, version = -1): Written {
    return this.write({ op: 'setData', path, data: bytes(data), version });
  }

  delete(path: string, version = -1): Written {
    return this.write({ op: 'delete', path, version });
  }

  openSession(sessionId: number, timeout_ms = 10_000): void {
    this.write({ op: 'createSession', sessionId, timeout_ms });
  }
}
