/**
 * The consistent-hashing ring: an immutable value mapping 64-bit hashes to shard groups.
 * Each group owns virtual-node tokens; a token owns the hash range (previous token, token],
 * wrapping around from 2^64-1 to 0. Changes return a new Ring with version + 1.
 *
 * Lookup is a binary search over the sorted tokens, kept as two Uint32Arrays (high and low
 * halves) so the search compares numbers, not bigints. A bucket index on the top bits of the
 * hash narrows the search to the few tokens that share those bits.
 */
import { ShardkvError, invariant } from '../errors/codes.js';
import { allocateJoiningGroup, allocateLeavingGroup, groupShares, type TokenEntry } from './allocation.js';
import { type GroupState, isGroupState, validateGroupId } from './group.js';
import { HASH_SPACE_SIZE } from './hash-space.js';
import type { RingHasher } from './hasher.js';
import { placementKey } from './path.js';
import { MAX_VNODES_PER_GROUP, encodeTokens, parseRingDocument, type RingDocument } from './ring-document.js';

export const DEFAULT_VNODES_PER_GROUP = 128;

/** A group as the ring sees it. `share` is its fraction of the hash space (exact: shareOf). */
export interface RingGroup {
  id: string;
  state: GroupState;
  tokenCount: number;
  share: number;
}

// Scratch space to split a bigint hash into 32-bit halves without bigint arithmetic.
const scratch64 = new BigUint64Array(1);
const scratch32 = new Uint32Array(scratch64.buffer);
const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
const HIGH = littleEndian ? 1 : 0;
const LOW = littleEndian ? 0 : 1;

/** Bits of the bucket index: about two buckets per token, at most 2^16 buckets. */
function bucketBitsFor(tokenCount: number): number {
  return Math.min(16, Math.max(1, Math.ceil(Math.log2(Math.max(1, tokenCount))) + 1));
}

interface RingParts {
  hasher: RingHasher;
  version: number;
  vnodesPerGroup: number;
  states: ReadonlyMap<string, GroupState>;
  /** Sorted by token, tokens distinct; every group in `states` owns at least one. */
  entries: readonly TokenEntry[];
}

export class Ring {
  readonly version: number;
  readonly vnodesPerGroup: number;
  private readonly hasher: RingHasher;
  private readonly states: ReadonlyMap<string, GroupState>;
  private readonly tokenEntries: readonly TokenEntry[];
  private readonly tokenHigh: Uint32Array;
  private readonly tokenLow: Uint32Array;
  private readonly ownerIds: readonly string[];
  /** bucketStart[b] = index of the first token whose top `bucketBits` bits are >= b. */
  private readonly bucketStart: Uint32Array;
  private readonly bucketShift: number;

  private constructor(parts: RingParts) {
    this.hasher = parts.hasher;
    this.version = parts.version;
    this.vnodesPerGroup = parts.vnodesPerGroup;
    this.states = parts.states;
    this.tokenEntries = parts.entries;
    const count = parts.entries.length;
    this.tokenHigh = new Uint32Array(count);
    this.tokenLow = new Uint32Array(count);
    const owners: string[] = [];
    const owned = new Set<string>();
    parts.entries.forEach(({ token, owner }, i) => {
      invariant(i === 0 || parts.entries[i - 1]!.token < token, 'ring tokens are strictly ascending');
      invariant(token >= 0n && token < HASH_SPACE_SIZE, 'ring tokens are 64-bit');
      invariant(parts.states.has(owner), `token owner ${owner} is a group of the ring`);
      this.tokenHigh[i] = Number(token >> 32n);
      this.tokenLow[i] = Number(token & 0xffffffffn);
      owners.push(owner);
      owned.add(owner);
    });
    invariant(owned.size === parts.states.size, 'every group of the ring owns a token');
    this.ownerIds = owners;
    const bucketBits = bucketBitsFor(count);
    this.bucketShift = 32 - bucketBits;
    this.bucketStart = new Uint32Array((1 << bucketBits) + 1);
    let index = 0;
    for (let bucket = 0; bucket <= 1 << bucketBits; bucket += 1) {
      while (index < count && this.tokenHigh[index]! >>> this.bucketShift < bucket) index += 1;
      this.bucketStart[bucket] = index;
    }
  }

  /** A ring with no groups (version 0 unless given). */
  static empty(hasher: RingHasher, options: { vnodesPerGroup?: number; version?: number } = {}): Ring {
    const vnodesPerGroup = options.vnodesPerGroup ?? DEFAULT_VNODES_PER_GROUP;
    if (!Number.isSafeInteger(vnodesPerGroup) || vnodesPerGroup < 1 || vnodesPerGroup > MAX_VNODES_PER_GROUP) {
      throw new ShardkvError('BAD_ARGUMENTS', `vnodesPerGroup must be an integer from 1 to ${MAX_VNODES_PER_GROUP}, got ${vnodesPerGroup}`);
    }
    const version = options.version ?? 0;
    if (!Number.isSafeInteger(version) || version < 0) {
      throw new ShardkvError('BAD_ARGUMENTS', `ring version must be a non-negative integer, got ${version}`);
    }
    return new Ring({ hasher, version, vnodesPerGroup, states: new Map(), entries: [] });
  }

  /** A ring from its JSON document (already JSON.parse'd); throws BAD_ARGUMENTS when malformed. */
  static fromJSON(doc: unknown, hasher: RingHasher): Ring {
    const parsed = parseRingDocument(doc);
    const states = new Map(parsed.groups.map((group) => [group.id, group.state]));
    const entries = parsed.groups
      .flatMap((group) => group.tokens.map((token) => ({ token, owner: group.id })))
      .sort((a, b) => (a.token < b.token ? -1 : 1));
    return new Ring({ hasher, version: parsed.version, vnodesPerGroup: parsed.vnodesPerGroup, states, entries });
  }

  toJSON(): RingDocument {
    const groups: RingDocument['groups'] = {};
    for (const id of this.groupIds()) groups[id] = { state: this.states.get(id)!, tokens: encodeTokens(this.tokensOf(id)) };
    return { version: this.version, vnodesPerGroup: this.vnodesPerGroup, groups };
  }

  get groupCount(): number {
    return this.states.size;
  }

  get tokenCount(): number {
    return this.tokenEntries.length;
  }

  /** Group ids in sorted order. */
  groupIds(): string[] {
    return [...this.states.keys()].sort();
  }

  hasGroup(id: string): boolean {
    return this.states.has(id);
  }

  groups(): RingGroup[] {
    const shares = groupShares(this.tokenEntries);
    const counts = new Map<string, number>();
    for (const { owner } of this.tokenEntries) counts.set(owner, (counts.get(owner) ?? 0) + 1);
    return this.groupIds().map((id) => ({
      id,
      state: this.states.get(id)!,
      tokenCount: counts.get(id)!,
      share: Number(shares.get(id)!) / Number(HASH_SPACE_SIZE),
    }));
  }

  stateOf(id: string): GroupState {
    return this.states.get(this.knownGroup(id))!;
  }

  /** Exact number of hashes the group owns (the shares of all groups sum to 2^64). */
  shareOf(id: string): bigint {
    return groupShares(this.tokenEntries).get(this.knownGroup(id))!;
  }

  /** The group's tokens, ascending. */
  tokensOf(id: string): bigint[] {
    this.knownGroup(id);
    return this.tokenEntries.filter((entry) => entry.owner === id).map((entry) => entry.token);
  }

  /** All tokens with their owners, ascending by token. */
  entries(): TokenEntry[] {
    return this.tokenEntries.map((entry) => ({ ...entry }));
  }

  /**
   * The group owning a 64-bit hash: the owner of the first token >= hash, or of the first
   * token when the hash is above every token. The hash is taken modulo 2^64.
   */
  ownerOfHash(hash: bigint): string {
    const count = this.tokenHigh.length;
    if (count === 0) throw new ShardkvError('UNAVAILABLE', 'the ring has no groups');
    scratch64[0] = hash;
    const high = scratch32[HIGH]!;
    const low = scratch32[LOW]!;
    const tokenHigh = this.tokenHigh;
    const tokenLow = this.tokenLow;
    // Tokens of lower buckets are below the hash, of higher buckets above it: the first token
    // >= hash is in this bucket or is the first of the next ones.
    const bucket = high >>> this.bucketShift;
    let from = this.bucketStart[bucket]!;
    let to = this.bucketStart[bucket + 1]!;
    while (from < to) {
      const mid = (from + to) >>> 1;
      const midHigh = tokenHigh[mid]!;
      if (midHigh < high || (midHigh === high && tokenLow[mid]! < low)) from = mid + 1;
      else to = mid;
    }
    return this.ownerIds[from === count ? 0 : from]!;
  }

  /** The group owning a placement key (xxh64, seed 0, of its UTF-8 bytes). */
  ownerOf(placementKeyText: string): string {
    return this.ownerOfHash(this.hasher.hash(placementKeyText));
  }

  /** The group owning a znode path: the owner of its placement key (its parent path). */
  ownerOfPath(path: string): string {
    return this.ownerOf(placementKey(path));
  }

  /** A new ring (version + 1) where `id` has joined with tokens cut from the widest ranges of the fullest groups. */
  withGroupAdded(id: string, state: GroupState = 'active'): Ring {
    validateGroupId(id);
    this.checkState(state);
    if (this.states.has(id)) throw new ShardkvError('BAD_ARGUMENTS', `group ${id} is already in the ring`, { groupId: id });
    const entries = allocateJoiningGroup(this.tokenEntries, id, this.vnodesPerGroup);
    return this.next(new Map([...this.states, [id, state]]), entries);
  }

  /** A new ring (version + 1) without `id`; its ranges go to the groups below their new share. */
  withGroupRemoved(id: string): Ring {
    this.knownGroup(id);
    const entries = allocateLeavingGroup(this.tokenEntries, id, this.vnodesPerGroup);
    const states = new Map(this.states);
    states.delete(id);
    return this.next(states, entries);
  }

  /** A new ring (version + 1) with the group's state changed; tokens unchanged. */
  withGroupState(id: string, state: GroupState): Ring {
    this.knownGroup(id);
    this.checkState(state);
    return this.next(new Map([...this.states, [id, state]]), this.tokenEntries);
  }

  private next(states: ReadonlyMap<string, GroupState>, entries: readonly TokenEntry[]): Ring {
    return new Ring({ hasher: this.hasher, version: this.version + 1, vnodesPerGroup: this.vnodesPerGroup, states, entries });
  }

  private knownGroup(id: string): string {
    if (!this.states.has(id)) {
      throw new ShardkvError('BAD_ARGUMENTS', `group ${JSON.stringify(id)} is not in the ring (version ${this.version})`, { groupId: id });
    }
    return id;
  }

  private checkState(state: GroupState): void {
    if (!isGroupState(state)) {
      throw new ShardkvError('BAD_ARGUMENTS', `group state must be "active", "joining" or "leaving", got ${JSON.stringify(state)}`);
    }
  }
}
