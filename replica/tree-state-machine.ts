/**
 * The znode tree as a replicated state machine: the log payload of a transaction is the
 * msgpack of `{ txn, time_ms }` (the leader's clock at prepare time, so every replica stamps
 * ctime/mtime alike). Used by the meta ensemble (strict hierarchy) and by shard groups
 * (implicit hierarchy).
 */
import { decodeMessage, encodeMessage } from '../net/codec.js';
import type { ReplicatedStateMachine } from '../zab/driver/state-machine.js';
import type { LogRecord } from '../zab/messages.js';
import { ZnodeTree } from '../znode/znode-tree.js';
import type { SnapshotChunk } from '../znode/tree-snapshot.js';
import type { Txn, TxnResult, WatchEvent } from '../znode/types.js';

interface TxnPayload {
  txn: Txn;
  time_ms: number;
}

export function encodeTxnPayload(txn: Txn, time_ms: number): Uint8Array {
  const payload: TxnPayload = { txn, time_ms };
  return encodeMessage(payload);
}

export interface TreeStateMachineHooks {
  /** After each apply: the preparer forgets pending changes through this zxid. */
  onApplied?: (zxid: number) => void;
  /** Watch events the apply triggered, in ZooKeeper's order. */
  onWatchEvents?: (events: WatchEvent[]) => void;
}

export class TreeStateMachine implements ReplicatedStateMachine<TxnResult> {
  constructor(
    readonly tree: ZnodeTree,
    private readonly hooks: TreeStateMachineHooks = {},
  ) {}

  apply(record: LogRecord): TxnResult {
    const { txn, time_ms } = decodeMessage(record.payload) as TxnPayload;
    const outcome = this.tree.apply(txn, record.zxid, time_ms);
    this.hooks.onApplied?.(record.zxid);
    if (outcome.events.length > 0) this.hooks.onWatchEvents?.(outcome.events);
    return outcome.result;
  }

  /** Takes the header synchronously, so the snapshot starts at the zxid applied right now. */
  snapshotChunks(): Iterable<Uint8Array> {
    const chunks = this.tree.serialise();
    const first = chunks.next();
    return (function* encode(): Generator<Uint8Array> {
      if (first.done === true) return;
      yield encodeMessage(first.value);
      for (const chunk of chunks) yield encodeMessage(chunk);
    })();
  }

  restoreChunks(chunks: Iterable<Uint8Array>): void {
    const tree = this.tree;
    tree.restore((function* decode(): Generator<SnapshotChunk> {
      for (const chunk of chunks) yield decodeMessage(chunk) as SnapshotChunk;
    })());
  }
}
