/**
 * The simulated cluster's placement hash and ring. The hash is FNV-1a 64 (deterministic, no
 * WASM to load); the ring is one atomic register standing for the meta ensemble's /ring: its
 * version and the owner of the one hash range that moves. Keys outside that range stay with
 * their home group (by the hash's lowest bit).
 */
import { rangesContain, type HashRange, type PlacementHash } from '../../znode/range-transfer.js';

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;
const MASK_64 = (1n << 64n) - 1n;

export function fnv64(text: string): bigint {
  let hash = FNV_OFFSET;
  for (let i = 0; i < text.length; i++) {
    hash ^= BigInt(text.charCodeAt(i));
    hash = (hash * FNV_PRIME) & MASK_64;
  }
  return hash;
}

export const simPlacement: PlacementHash = {
  ofKey: (placementKey) => fnv64(placementKey),
  ofSession: (sessionId) => fnv64(`session:${sessionId}`),
};

export type GroupName = 'A' | 'B';

/** The ring as a node or router sees it at one version (the shape RangeOps reads from a Ring). */
export interface RingView {
  version: number;
  groupCount: number;
  ownerOf(placementKey: string): GroupName;
  ownerOfHash(hash: bigint): GroupName;
}

export class SimRing {
  /** The moving range's owner at each committed version. */
  private readonly movingOwner = new Map<number, GroupName>();
  version: number;

  constructor(readonly moving: HashRange, initialOwner: GroupName, initialVersion = 1) {
    this.version = initialVersion;
    this.movingOwner.set(initialVersion, initialOwner);
  }

  /** Commits ring `from + 1` handing the moving range to `to`; false if the ring is not at `from`. */
  commit(from: number, to: GroupName): boolean {
    if (this.version !== from) return false;
    this.version = from + 1;
    this.movingOwner.set(this.version, to);
    return true;
  }

  ownerOfHash(hash: bigint, version: number): GroupName {
    if (rangesContain([this.moving], hash)) {
      const owner = this.movingOwner.get(version);
      if (owner === undefined) throw new Error(`no ring version ${version}`);
      return owner;
    }
    return (hash & 1n) === 0n ? 'A' : 'B';
  }

  view(version: number): RingView {
    return {
      version,
      groupCount: 2,
      ownerOf: (placementKey) => this.ownerOfHash(simPlacement.ofKey(placementKey), version),
      ownerOfHash: (hash) => this.ownerOfHash(hash, version),
    };
  }
}
