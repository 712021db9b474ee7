/**
 * Deterministic token allocation: which tokens a joining group gets and who inherits the ranges
 * of a leaving group. Everything is exact bigint arithmetic on range widths, so every group's
 * share of the hash space is known exactly (not estimated), and the result depends only on the
 * inputs (no randomness).
 *
 * The model: each group has a target share, the hash space divided evenly among the groups
 * (the first `2^64 mod n` groups in id order get one hash more). A joining group takes from
 * every group exactly what that group holds above its new target, by cutting pieces off the
 * widest ranges of that group; a leaving group's ranges go to the groups below their target,
 * whole where that merges a range into its neighbour, cut into pieces otherwise. Keys only
 * move to the joining group or away from the leaving group, so the moved fraction is the
 * optimum: 1/(N+1) of the space on a join, the leaving group's share on a leave.
 */
import { invariant } from '../errors/codes.js';
import { HASH_SPACE_SIZE, MAX_HASH, rangeWidth } from './hash-space.js';

/** One token of the ring and the group that owns the range ending at it. */
export interface TokenEntry {
  token: bigint;
  owner: string;
}

/** Width of the range each token owns, index for index with `entries` (sorted by token). */
export function rangeWidths(entries: readonly TokenEntry[]): bigint[] {
  const count = entries.length;
  return entries.map((entry, i) => rangeWidth(entries[(i - 1 + count) % count]!.token, entry.token));
}

/** Exact share of the hash space per group (sums to 2^64 for a non-empty ring). */
export function groupShares(entries: readonly TokenEntry[]): Map<string, bigint> {
  const widths = rangeWidths(entries);
  const shares = new Map<string, bigint>();
  entries.forEach((entry, i) => shares.set(entry.owner, (shares.get(entry.owner) ?? 0n) + widths[i]!));
  return shares;
}

/** The even split of the space among `groupIds`: 2^64 div n each, one more for the first (2^64 mod n) ids in sorted order. */
export function targetShares(groupIds: readonly string[]): Map<string, bigint> {
  const sorted = [...groupIds].sort();
  const count = BigInt(sorted.length);
  const base = HASH_SPACE_SIZE / count;
  const extra = HASH_SPACE_SIZE % count;
  return new Map(sorted.map((id, i) => [id, BigInt(i) < extra ? base + 1n : base]));
}

/** `count` evenly spaced tokens: token i ends the range ((i)·2^64/count, (i+1)·2^64/count]. */
export function evenlySpacedTokens(owner: string, count: number): TokenEntry[] {
  invariant(Number.isSafeInteger(count) && count >= 1, `token count ${count} must be a positive integer`);
  const n = BigInt(count);
  return Array.from({ length: count }, (_, i) => ({ token: ((BigInt(i) + 1n) * HASH_SPACE_SIZE) / n - 1n, owner }));
}

const byToken = (a: TokenEntry, b: TokenEntry): number => (a.token < b.token ? -1 : a.token > b.token ? 1 : 0);

/**
 * Splits `tokenCount` tokens among donors in proportion to what each must give (D'Hondt: the
 * next token goes to the donor with the most left to give per token it already has), never
 * more tokens to a donor than it has ranges.
 */
function tokensPerDonor(give: Map<string, bigint>, rangeCounts: Map<string, number>, tokenCount: number): Map<string, number> {
  const donors = [...give.keys()].filter((id) => give.get(id)! > 0n).sort();
  const counts = new Map(donors.map((id) => [id, 0]));
  for (let handed = 0; handed < tokenCount; handed += 1) {
    let best: string | undefined;
    for (const id of donors) {
      if (counts.get(id)! >= rangeCounts.get(id)!) continue;
      if (best === undefined) { best = id; continue; }
      // give[id] / (counts[id] + 1) > give[best] / (counts[best] + 1), without division.
      const mine = give.get(id)! * BigInt(counts.get(best)! + 1);
      const theirs = give.get(best)! * BigInt(counts.get(id)! + 1);
      if (mine > theirs) best = id;
    }
    if (best === undefined) break;
    counts.set(best, counts.get(best)! + 1);
  }
  return counts;
}

/**
 * The tokens of a ring after group `joining` (not yet in the ring) joins with up to
 * `tokenCount` tokens. An empty ring gives the joining group `tokenCount` evenly spaced tokens.
 * Otherwise each other group gives exactly its share above its new target: its widest ranges
 * (as many as it is given tokens) each lose a piece at their start, proportional to the range's
 * width, and the joining group gets a token at the end of each piece.
 */
export function allocateJoiningGroup(entries: readonly TokenEntry[], joining: string, tokenCount: number): TokenEntry[] {
  if (entries.length === 0) return evenlySpacedTokens(joining, tokenCount);
  const widths = rangeWidths(entries);
  const shares = groupShares(entries);
  invariant(!shares.has(joining), `group ${joining} is already in the ring`);
  const targets = targetShares([...shares.keys(), joining]);
  const wanted = targets.get(joining)!;

  const give = new Map<string, bigint>();
  let totalOver = 0n;
  for (const [id, share] of shares) {
    const over = share > targets.get(id)! ? share - targets.get(id)! : 0n;
    give.set(id, over);
    totalOver += over;
  }
  // In an unbalanced ring the groups above target hold more than the joining group's target:
  // take only that much (in proportion), so that no more keys move than the optimum.
  if (totalOver > wanted) for (const [id, over] of give) give.set(id, (over * wanted) / totalOver);

  const rangesByOwner = new Map<string, number[]>();
  entries.forEach((entry, i) => {
    const list = rangesByOwner.get(entry.owner) ?? [];
    list.push(i);
    rangesByOwner.set(entry.owner, list);
  });
  const rangeCounts = new Map([...rangesByOwner].map(([id, list]) => [id, list.length]));
  const counts = tokensPerDonor(give, rangeCounts, tokenCount);

  const added: TokenEntry[] = [];
  for (const [donor, count] of counts) {
    if (count === 0) continue;
    const widest = [...rangesByOwner.get(donor)!]
      .sort((a, b) => (widths[a]! > widths[b]! ? -1 : widths[a]! < widths[b]! ? 1 : a - b))
      .slice(0, count);
    const amount = give.get(donor)!;
    const widthSum = widest.reduce((sum, i) => sum + widths[i]!, 0n);
    const pieces = widest.map((i) => (amount * widths[i]!) / widthSum);
    // Floor division leaves less than `count` hashes over: one more for the first pieces.
    let left = amount - pieces.reduce((sum, piece) => sum + piece, 0n);
    invariant(left >= 0n && left < BigInt(pieces.length), 'rounding leaves fewer hashes than pieces');
    for (let p = 0; left > 0n; p = (p + 1) % pieces.length, left -= 1n) pieces[p]! += 1n;
    widest.forEach((rangeIndex, p) => {
      // A piece never swallows the whole range: the donor's token keeps at least one hash.
      const piece = pieces[p]! < widths[rangeIndex]! ? pieces[p]! : widths[rangeIndex]! - 1n;
      if (piece === 0n) return;
      const start = entries[(rangeIndex - 1 + entries.length) % entries.length]!.token;
      added.push({ token: (start + piece) & MAX_HASH, owner: joining });
    });
  }
  return [...entries, ...added].sort(byToken);
}

/** Drops every token whose successor has the same owner: its range merges into the successor's, nothing moves. */
function coalesce(entries: readonly TokenEntry[]): TokenEntry[] {
  return entries.filter((entry, i) => entries[(i + 1) % entries.length]!.owner !== entry.owner);
}

/**
 * The tokens of a ring after group `leaving` leaves. Its ranges go only to groups below their
 * new target, and exactly fill them: first, walking backwards, a range goes whole to the owner
 * of the next range when that owner still has room (the two ranges merge, no new token); the
 * rest, laid end to end, is cut into consecutive pieces, one per group still below target
 * (largest room first). A ring left with one group gets that group's evenly spaced tokens.
 */
export function allocateLeavingGroup(entries: readonly TokenEntry[], leaving: string, tokenCount: number): TokenEntry[] {
  const shares = groupShares(entries);
  invariant(shares.has(leaving), `group ${leaving} is not in the ring`);
  const remaining = [...shares.keys()].filter((id) => id !== leaving);
  if (remaining.length === 0) return [];
  if (remaining.length === 1) return evenlySpacedTokens(remaining[0]!, tokenCount);

  const widths = rangeWidths(entries);
  const targets = targetShares(remaining);
  const room = new Map(remaining.map((id) => {
    const share = shares.get(id)!;
    return [id, share < targets.get(id)! ? targets.get(id)! - share : 0n] as const;
  }));
  const owners = entries.map((entry) => entry.owner);
  const count = entries.length;

  // Pass 1: whole ranges to the owner of the following range.
  for (let i = count - 1; i >= 0; i -= 1) {
    if (owners[i] !== leaving) continue;
    const next = owners[(i + 1) % count]!;
    if (next === leaving || room.get(next)! < widths[i]!) continue;
    owners[i] = next;
    room.set(next, room.get(next)! - widths[i]!);
  }

  // Pass 2: the rest, end to end, cut into one piece per group with room left.
  const takers = remaining.filter((id) => room.get(id)! > 0n).sort((a, b) => {
    const ra = room.get(a)!;
    const rb = room.get(b)!;
    return ra > rb ? -1 : ra < rb ? 1 : a < b ? -1 : 1;
  });
  const added: TokenEntry[] = [];
  let taker = 0;
  for (let i = 0; i < count; i += 1) {
    if (owners[i] !== leaving) continue;
    invariant(takers.length > 0, 'a leaving range has no group with room to take it');
    const start = entries[(i - 1 + count) % count]!.token;
    let used = 0n;
    // The last taker takes whatever is left (rounding), so the loop cuts at most takers-1 times.
    while (taker < takers.length - 1 && widths[i]! - used > room.get(takers[taker]!)!) {
      const piece = room.get(takers[taker]!)!;
      if (piece > 0n) {
        used += piece;
        added.push({ token: (start + used) & MAX_HASH, owner: takers[taker]! });
        room.set(takers[taker]!, 0n);
      }
      taker += 1;
    }
    const id = takers[taker]!;
    owners[i] = id;
    const rest = widths[i]! - used;
    room.set(id, room.get(id)! > rest ? room.get(id)! - rest : 0n);
  }

  const result = entries.map((entry, i) => ({ token: entry.token, owner: owners[i]! }));
  return coalesce([...result, ...added].sort(byToken));
}
