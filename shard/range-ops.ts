/**
 * The shard protocol's rebalancing ops on a group leader (protocol/shard.ts): export pages and
 * tails of hash ranges (source), import through our own log (target), fence and drop. Also the
 * fence's effect on requests: a key in a fenced range answers MOVED, and that answer waits a
 * little for the ring that hands the range over, so the router's retry finds the new owner.
 */
import { ShardkvError } from '../errors/codes.js';
import type { Logger } from '../logging/logger.js';
import type { RingWatch } from '../meta/ring-watch.js';
import type {
  DropRangeReply, ExportPageReply, ExportTailReply, ShardReplyHeader, ShardRequest,
} from '../protocol/shard.js';
import type { TreeReplica } from '../replica/tree-replica.js';
import { parseRanges, type PlacementHash } from '../znode/range-transfer.js';
import { RangeExports } from './range-export.js';
import { SessionAuthority } from './session-authority.js';

export type RangeRequest = Extract<ShardRequest, { op: 'exportRange' | 'exportTail' | 'exportEnd' | 'importRange' | 'fenceRange' | 'dropRange' }>;

const RANGE_OPS = new Set<string>(['exportRange', 'exportTail', 'exportEnd', 'importRange', 'fenceRange', 'dropRange']);

/** Paths per dropRange txn: keeps each log record small. */
const DROP_PAGE = 1000;
const MAX_PAGE_ENTRIES = 10_000;
const MAX_PAGE_BYTES = 4 * 1024 * 1024;

export interface RangeOpsOptions {
  group: string;
  replica: TreeReplica;
  ring: RingWatch;
  placement: PlacementHash;
  logger: Logger;
  /** How long a MOVED for a fenced key waits for the ring that moves it. Default 1500 ms. */
  fenceHold_ms?: number;
  /** The range moved away and was dropped: tell the watchers of this group to re-register. */
  onDropped?: (zxid: number) => void;
}

export class RangeOps {
  readonly exports: RangeExports;
  /** Sessions move with the ranges: which of them this group decides the expiry of. */
  private readonly sessionAuthority: SessionAuthority;

  constructor(private readonly options: RangeOpsOptions) {
    this.exports = new RangeExports(options.replica.tree, options.placement);
    this.sessionAuthority = new SessionAuthority({
      group: options.group, tree: options.replica.tree, ring: options.ring, placement: options.placement,
    });
  }

  stop(): void {
    this.sessionAuthority.stop();
  }

  static handles(request: ShardRequest): request is RangeRequest {
    return RANGE_OPS.has(request.op);
  }

  private header(zxid = this.options.replica.tree.lastZxid): ShardReplyHeader {
    return { zxid, ringVersion: this.options.ring.ring.version };
  }

  async serve(request: RangeRequest): Promise<unknown> {
    const tree = this.options.replica.tree;
    switch (request.op) {
      case 'exportRange': {
        const limit = boundedInteger(request.limit, 1, MAX_PAGE_ENTRIES, 'limit');
        const maxBytes = boundedInteger(request.maxBytes, 1, MAX_PAGE_BYTES, 'maxBytes');
        const cursor = boundedInteger(request.cursor, 0, Number.MAX_SAFE_INTEGER, 'cursor');
        const page = this.exports.page(exportIdOf(request.exportId), parseRanges(request.ranges), cursor, limit, maxBytes, Date.now());
        const reply: ExportPageReply = { ...this.header(page.zxid), ...page };
        return reply;
      }
      case 'exportTail': {
        const limit = boundedInteger(request.limit, 1, MAX_PAGE_ENTRIES, 'limit');
        const tail = this.exports.tail(exportIdOf(request.exportId), Number(request.sinceZxid), limit, Date.now());
        const reply: ExportTailReply = { ...this.header(tail.zxid), image: tail.image, more: tail.more, size_bytes: tail.size_bytes };
        return reply;
      }
      case 'exportEnd':
        this.exports.end(exportIdOf(request.exportId));
        return this.header();
      case 'importRange': {
        const { zxid } = await this.options.replica.write({ op: 'importNodes', image: request.image, ...tokenOf(request) }, 0);
        return this.header(zxid);
      }
      case 'fenceRange': {
        this.refuseStale(request);
        if (tree.fences().some((fence) => fence.fenceId === request.fenceId)) return this.header();
        const { zxid } = await this.options.replica.write(
          { op: 'fence', fenceId: request.fenceId, ranges: request.ranges, toRingVersion: request.toRingVersion, ...tokenOf(request) }, 0);
        this.options.logger.info({ fenceId: request.fenceId, ranges: request.ranges.length, toRingVersion: request.toRingVersion, zxid }, 'ranges fenced');
        return this.header(zxid);
      }
      case 'dropRange':
        return this.drop(request);
    }
  }

  /**
   * STALE_COORDINATOR early, from the replicated token (the preparer decides for good, also for
   * txns still pending): spares a stale drop its key scan and a stale fence its idempotent "done".
   */
  private refuseStale(request: { coordinatorToken?: number }): void {
    const token = typeof request.coordinatorToken === 'number' ? request.coordinatorToken : 0;
    const highest = this.options.replica.tree.coordinatorToken;
    if (token < highest) {
      throw new ShardkvError('STALE_COORDINATOR', `coordinator token ${token} is older than ${highest}, already accepted by group ${this.options.group}`, {
        token, highest,
      });
    }
  }

  private async drop(request: Extract<RangeRequest, { op: 'dropRange' }>): Promise<DropRangeReply> {
    this.refuseStale(request);
    const ranges = parseRanges(request.ranges);
    const ring = await this.options.ring.atLeast(typeof request.ringVersion === 'number' ? request.ringVersion : 0);
    const keys = this.exports.keysIn(ranges);
    const placement = this.options.placement;
    const owned = ring.groupCount > 0 && (
      keys.dirs.some((path) => ring.ownerOfHash(placement.ofKey(path)) === this.options.group)
      || keys.sessions.some((id) => ring.ownerOfHash(placement.ofSession(id)) === this.options.group)
      || keys.nodes.some((path) => ring.ownerOf(parentKey(path)) === this.options.group));
    if (owned) {
      throw new ShardkvError('BAD_ARGUMENTS', `group ${this.options.group} owns keys of these ranges at ring version ${ring.version}; not dropping them`, {
        ringVersion: ring.version,
      });
    }
    let zxid = this.options.replica.tree.lastZxid;
    for (let at = 0; at < keys.nodes.length; at += DROP_PAGE) {
      const paths = keys.nodes.slice(at, at + DROP_PAGE);
      ({ zxid } = await this.options.replica.write({ op: 'dropRange', paths, dirs: [], sessions: [], ...tokenOf(request) }, 0));
    }
    const fenced = request.fenceId !== undefined && this.options.replica.tree.fences().some((fence) => fence.fenceId === request.fenceId);
    // Also when there is nothing to drop: the reset of a target records the new coordinator's
    // token, so a stale coordinator's imports after it are refused.
    const newToken = (request.coordinatorToken ?? 0) > this.options.replica.tree.coordinatorToken;
    if (keys.dirs.length > 0 || keys.sessions.length > 0 || fenced || newToken) {
      ({ zxid } = await this.options.replica.write({
        op: 'dropRange', paths: [], dirs: keys.dirs, sessions: keys.sessions, ...(fenced ? { fenceId: request.fenceId as string } : {}),
        ...tokenOf(request),
      }, 0));
    }
    if (request.fenceId !== undefined) this.options.onDropped?.(zxid);
    return { ...this.header(zxid), deleted: keys.nodes.length };
  }

  /** MOVED (fenced) if one of the placement keys is in a fenced range (reads check here; writes at prepare). */
  checkNotFenced(placementKeys: readonly string[]): void {
    const tree = this.options.replica.tree;
    if (tree.fences().length === 0) return;
    for (const key of placementKeys) {
      const fence = tree.fenceCovering(this.options.placement.ofKey(key));
      if (fence !== undefined) {
        throw new ShardkvError('MOVED', `the key's range is moving to another group (fenced until ring version ${fence.toRingVersion})`, {
          ringVersion: fence.toRingVersion, fenced: true,
        });
      }
    }
  }

  /**
   * Rethrows `err`; a MOVED for a fenced key first waits (bounded) until our ring reaches the
   * version that hands the range over, and then names our ring version, so the router's
   * refresh finds the new owner instead of spinning on the old one.
   */
  async holdMoved(err: unknown): Promise<never> {
    if (!(err instanceof ShardkvError && err.code === 'MOVED' && err.details?.fenced === true)) throw err;
    const target = Number(err.details.ringVersion);
    const ring = await this.waitForRing(target, this.options.fenceHold_ms ?? 1500);
    if (ring < target) throw err;
    throw new ShardkvError('MOVED', `the key moved to another group at ring version ${ring}`, { ringVersion: ring });
  }

  private waitForRing(version: number, max_ms: number): Promise<number> {
    const watch = this.options.ring;
    if (watch.ring.version >= version) return Promise.resolve(watch.ring.version);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        stop();
        resolve(watch.ring.version);
      };
      const timer = setTimeout(done, max_ms);
      const stop = watch.onChange((ring) => {
        if (ring.version >= version) done();
      });
      // A watch event may be late: ask once ourselves too.
      void watch.atLeast(version).then((ring) => {
        if (ring.version >= version) done();
      }, () => undefined);
    });
  }

  clear(): void {
    this.exports.clear();
  }
}

/** The request's coordinator token, for the txn it becomes. */
function tokenOf(request: { coordinatorToken?: number }): { coordinatorToken?: number } {
  return request.coordinatorToken === undefined ? {} : { coordinatorToken: request.coordinatorToken };
}

function parentKey(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function boundedInteger(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ShardkvError('BAD_ARGUMENTS', `${name} must be an integer from ${min} to ${max}`);
  }
  return value;
}

function exportIdOf(value: unknown): string {
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
    throw new ShardkvError('BAD_ARGUMENTS', 'an export id is 1-64 letters, digits, "_" or "-"');
  }
  return value;
}
