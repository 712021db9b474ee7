import type { LogRecord } from '../messages.js';

/**
 * What a replicated state machine (the meta tree, a shard's slice) offers the ZAB driver.
 * Transactions are idempotent state effects, as in ZooKeeper, so a fuzzy snapshot (chunks
 * pulled over several event-loop turns while applies go on) plus a replay of the log after
 * the snapshot's start zxid gives the right state.
 */
export interface ReplicatedStateMachine<Result = unknown> {
  /** Applies one committed transaction; the result goes to the proposer on the leader. */
  apply(record: LogRecord): Result;
  /** The whole state as chunks; must tolerate applies between two chunks (fuzzy snapshot). */
  snapshotChunks(): Iterable<Uint8Array>;
  /** Replaces the whole state with the one the chunks describe. */
  restoreChunks(chunks: Iterable<Uint8Array>): void;
}
