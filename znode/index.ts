/** The znode data model (pure): see README.md. */
export { ZnodeTree, DEFAULT_MAX_DATA_BYTES, type ZnodeTreeOptions, type ChildrenResult } from './znode-tree.js';
export { TxnPreparer, sequenceSuffix } from './txn-preparer.js';
export { PendingChanges } from './pending-changes.js';
export { WatchRegistry, type WatchKind } from './watch-registry.js';
export { SNAPSHOT_FORMAT, type SnapshotChunk, type SnapshotNode } from './tree-snapshot.js';
export * from './types.js';
