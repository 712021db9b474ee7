/**
 * The cluster's own records in the meta tree (DESIGN.md, "Ring and rebalancing"):
 *   /cluster/config   JSON: the cluster's settings (vnodes per group)
 *   /groups/<id>      one node per shard group; its live members are ephemeral children
 *   /ring             JSON: the serialised ring (ring/ring-document.ts) with its version
 * The meta leader creates the fixed ones when it is established, if they are missing.
 */
import { DEFAULT_VNODES_PER_GROUP } from '../ring/ring.js';
import type { RingDocument } from '../ring/ring-document.js';

export const CLUSTER_PATH = '/cluster';
export const CLUSTER_CONFIG_PATH = '/cluster/config';
export const GROUPS_PATH = '/groups';
export const RING_PATH = '/ring';

export interface ClusterConfig {
  vnodesPerGroup: number;
}

export function groupPath(groupId: string): string {
  return `${GROUPS_PATH}/${groupId}`;
}

/** The records a fresh meta tree starts with, parents first. */
export function initialRecords(config: ClusterConfig = { vnodesPerGroup: DEFAULT_VNODES_PER_GROUP }): Array<{ path: string; data: string }> {
  const emptyRing: RingDocument = { version: 0, vnodesPerGroup: config.vnodesPerGroup, groups: {} };
  return [
    { path: CLUSTER_PATH, data: '' },
    { path: CLUSTER_CONFIG_PATH, data: JSON.stringify(config) },
    { path: GROUPS_PATH, data: '' },
    { path: RING_PATH, data: JSON.stringify(emptyRing) },
  ];
}
