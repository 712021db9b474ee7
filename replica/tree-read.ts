import { ShardkvError } from '../errors/codes.js';
import type { Stat, WatcherId } from '../znode/types.js';
import type { ZnodeTree } from '../znode/znode-tree.js';

export type TreeReadKind = 'getData' | 'exists' | 'getChildren';

/** One read of a replica's tree, as the meta and shard protocols answer it; `watcher` sets a one-shot watch. */
export function readTree(tree: ZnodeTree, read: TreeReadKind, path: string, watcher: WatcherId | undefined): { data?: Uint8Array; stat: Stat | null; children?: string[] } {
  switch (read) {
    case 'getData': {
      const { data, stat } = tree.getData(path, watcher);
      return { data, stat };
    }
    case 'exists':
      return { stat: tree.exists(path, watcher) };
    case 'getChildren': {
      const { children, stat } = tree.getChildren(path, watcher);
      return { children, stat };
    }
    default:
      throw new ShardkvError('BAD_ARGUMENTS', `unknown read ${JSON.stringify(read as unknown)}`);
  }
}
