/**
 * The leader's half of a write: validate a request against the current state plus the pending
 * (prepared, not yet applied) txns, resolve sequential names and new versions, and return the
 * Txn to propose, or throw a ShardkvError. Every replica then runs ZnodeTree.apply on it.
 *
 * Usage on the leader, in proposal order:
 *   const txn = preparer.prepare(request, { zxid, sessionId, now_ms });  // zxid it will be proposed at
 *   ...propose; on commit: tree.apply(txn, zxid, time_ms); preparer.committed(zxid);
 *   on losing leadership: preparer.reset().
 */
import { ShardkvError, type ErrorCode } from '../errors/codes.js';
import { ROOT_PATH, validatePath } from '../ring/path.js';
import { PendingChanges, type PendingDir, type PendingNode } from './pending-changes.js';
import { parseRanges, RESERVED_PREFIX, rangesContain, type HashRange } from './range-transfer.js';
import { parentOf } from './tree-state.js';
import type {
  CheckRequest,
  CloseSessionRequest,
  CreateMode,
  CreateRequest,
  CreateSessionRequest,
  DeleteRequest,
  DropRangeRequest,
  FenceRequest,
  ImportNodesRequest,
  MultiOpFailure,
  MultiOpRequest,
  MultiRequest,
  MultiSubTxn,
  NodeKind,
  PrepareContext,
  ReapRequest,
  Request,
  SetDataRequest,
  Txn,
} from './types.js';
import { CREATE_MODES } from './types.js';
import type { ZnodeTree } from './znode-tree.js';

const SEQUENCE_DIGITS = 10;

/** ZooKeeper's suffix: the parent's counter, zero-padded to 10 digits. */
export function sequenceSuffix(counter: number): string {
  return String(counter).padStart(SEQUENCE_DIGITS, '0');
}

function modeInfo(mode: CreateMode): { kind: NodeKind; sequential: boolean } {
  switch (mode) {
    case 'persistent':
      return { kind: 'persistent', sequential: false };
    case 'persistent_sequential':
      return { kind: 'persistent', sequential: true };
    case 'ephemeral':
      return { kind: 'ephemeral', sequential: false };
    case 'ephemeral_sequential':
      return { kind: 'ephemeral', sequential: true };
    case 'container':
      return { kind: 'container', sequential: false };
    case 'persistent_with_ttl':
      return { kind: 'ttl', sequential: false };
    case 'persistent_sequential_with_ttl':
      return { kind: 'ttl', sequential: true };
  }
}

function badArguments(message: string, details?: Record<string, unknown>): ShardkvError {
  return new ShardkvError('BAD_ARGUMENTS', message, details);
}

function checkVersion(path: string, expected: number, actual: number): void {
  if (!Number.isInteger(expected) || expected < -1) {
    throw badArguments(`version must be an integer >= -1, got ${expected}`, { path });
  }
  if (expected !== -1 && expected !== actual) {
    throw new ShardkvError('BAD_VERSION', `version of ${path} is ${actual}, not ${expected}`, {
      path,
      expected,
      actual,
    });
  }
}

export class TxnPreparer {
  private readonly pending = new PendingChanges();
  /** Fences prepared and not yet applied: writes prepared after one must already be refused. */
  private pendingFences: Array<{ zxid: number; ranges: HashRange[]; toRingVersion: number }> = [];
  /** The highest coordinator token of the range txns prepared and not yet applied (0: none). */
  private pendingToken = 0;

  constructor(private readonly tree: ZnodeTree) {}

  /** Number of pending changes (for metrics and tests). */
  get pendingCount(): number {
    return this.pending.size;
  }

  prepare(request: Request, context: PrepareContext): Txn {
    switch (request.op) {
      case 'multi':
        return this.prepareMulti(request, context);
      case 'createSession':
        return this.prepareCreateSession(request, context);
      case 'closeSession':
        return this.prepareCloseSession(request, context);
      case 'reap':
        return this.prepareReap(request, context);
      case 'importNodes':
        return this.prepareImport(request, context);
      case 'fence':
        return this.prepareFence(request, context);
      case 'dropRange':
        return this.prepareDropRange(request, context);
      case 'create':
      case 'delete':
      case 'setData':
      case 'check':
        return this.prepareOp(request, context);
      default:
        throw badArguments(`unknown op ${JSON.stringify((request as { op: unknown }).op)}`);
    }
  }

  /** The tree has applied every txn up to `zxid`. */
  committed(zxid: number): void {
    this.pending.committed(zxid);
    if (this.pendingFences.length > 0) this.pendingFences = this.pendingFences.filter((fence) => fence.zxid > zxid);
  }

  /** Forget every pending change: this replica stopped leading, or is starting to. */
  reset(): void {
    this.pending.clear();
    this.pendingFences = [];
    this.pendingToken = 0;
  }

  // -------------------------------------------------------------------------------------------
  // The view: committed tree + pending changes.

  private nodeAt(path: string): PendingNode | null {
    const pending = this.pending.node(path);
    if (pending !== undefined) return pending;
    return this.tree.nodeAt(path) ?? null;
  }

  private dirAt(path: string): PendingDir {
    return this.pending.dir(path) ?? this.tree.directoryAt(path);
  }

  private sessionOpen(sessionId: number): boolean {
    return this.pending.sessionOpen(sessionId) ?? this.tree.hasSession(sessionId);
  }

  // -------------------------------------------------------------------------------------------
  // Node operations

  private prepareOp(request: MultiOpRequest, context: PrepareContext): MultiSubTxn {
    if (typeof request.path === 'string' && request.path.startsWith(RESERVED_PREFIX)) {
      throw new ShardkvError('BAD_PATH', `${request.path} is under the reserved ${RESERVED_PREFIX}`, { path: request.path });
    }
    if (typeof request.path === 'string') this.checkFence(() => this.tree.placement?.ofKey(parentOf(request.path)));
    switch (request.op) {
      case 'create':
        return this.prepareCreate(request, context);
      case 'delete':
        return this.prepareDelete(request, context);
      case 'setData':
        return this.prepareSetData(request, context);
      case 'check':
        return this.prepareCheck(request);
      default:
        throw badArguments(`op ${JSON.stringify((request as { op: unknown }).op)} cannot be part of a multi`);
    }
  }

  private checkData(path: string, data: unknown): Uint8Array {
    if (!(data instanceof Uint8Array)) throw badArguments(`data of ${path} must be bytes`, { path });
    if (data.length > this.tree.maxDataBytes) {
      throw new ShardkvError(
        'DATA_TOO_LARGE',
        `data of ${path} is ${data.length} bytes, more than the limit of ${this.tree.maxDataBytes}`,
        { path, size_bytes: data.length, limit_bytes: this.tree.maxDataBytes },
      );
    }
    return data;
  }

  private prepareCreate(request: CreateRequest, context: PrepareContext): MultiSubTxn {
    if (!CREATE_MODES.includes(request.mode)) throw badArguments(`unknown create mode ${JSON.stringify(request.mode)}`);
    const { kind, sequential } = modeInfo(request.mode);
    // A sequential base may end in "/" (ZooKeeper allows "/dir/"); validate what will be created.
    validatePath(sequential ? request.path + sequenceSuffix(0) : request.path);
    const data = this.checkData(request.path, request.data);
    let ttl_ms = 0;
    if (kind === 'ttl') {
      ttl_ms = request.ttl_ms ?? 0;
      if (!Number.isInteger(ttl_ms) || ttl_ms <= 0) {
        throw badArguments(`mode ${request.mode} needs a positive integer ttl_ms`, { path: request.path });
      }
    } else if (request.ttl_ms !== undefined) {
      throw badArguments(`ttl_ms is only for the *_with_ttl modes, not ${request.mode}`, { path: request.path });
    }
    let ephemeralOwner = 0;
    if (kind === 'ephemeral') {
      ephemeralOwner = context.sessionId;
      if (!Number.isInteger(ephemeralOwner) || ephemeralOwner <= 0) {
        throw badArguments('an ephemeral node needs a session', { path: request.path });
      }
      if (this.tree.sessionScope === 'local' && !this.sessionOpen(ephemeralOwner)) {
        throw new ShardkvError('SESSION_EXPIRED', `session ${ephemeralOwner} is not open`, { sessionId: ephemeralOwner });
      }
    }
    if (!sequential && request.path === ROOT_PATH) throw new ShardkvError('NODE_EXISTS', 'the root always exists', { path: ROOT_PATH });

    // parentOf also gives the directory of a sequential base ending in '/': '/q/' -> '/q'.
    const parent = parentOf(request.path);
    if (this.tree.hierarchy === 'strict') {
      const parentNode = this.nodeAt(parent);
      if (parentNode === null) {
        throw new ShardkvError('NO_NODE', `parent ${parent} of ${request.path} does not exist`, { path: request.path, parent });
      }
      if (parentNode.kind === 'ephemeral') {
        throw new ShardkvError('NO_CHILDREN_FOR_EPHEMERALS', `parent ${parent} is ephemeral`, {
          path: request.path,
          parent,
        });
      }
    }
    const parentDir = this.dirAt(parent);
    const path = sequential ? request.path + sequenceSuffix(parentDir.creates) : request.path;
    if (this.nodeAt(path) !== null) throw new ShardkvError('NODE_EXISTS', `${path} already exists`, { path });

    const zxid = context.zxid;
    const parentCreates = parentDir.creates + 1;
    this.pending.setNode(zxid, path, { version: 0, kind, ephemeralOwner });
    this.pending.setDir(zxid, parent, { creates: parentCreates, childCount: parentDir.childCount + 1 });
    // Strict: a new node starts with a new directory. Implicit: the directory outlives its node.
    if (this.tree.hierarchy === 'strict') this.pending.setDir(zxid, path, { creates: 0, childCount: 0 });
    return { type: 'create', path, data, kind, ephemeralOwner, ttl_ms, parentCreates };
  }

  /** Pending effect of deleting `path` (a validated, non-root path). */
  private deletion(path: string, zxid: number): MultiSubTxn {
    const parent = parentOf(path);
    const parentDir = this.dirAt(parent);
    this.pending.setNode(zxid, path, null);
    this.pending.setDir(zxid, parent, { creates: parentDir.creates, childCount: Math.max(0, parentDir.childCount - 1) });
    return { type: 'delete', path };
  }

  private existingNode(path: string): PendingNode {
    validatePath(path);
    const node = this.nodeAt(path);
    if (node === null) throw new ShardkvError('NO_NODE', `no node at ${path}`, { path });
    return node;
  }

  private prepareDelete(request: DeleteRequest, context: PrepareContext): MultiSubTxn {
    if (request.path === ROOT_PATH) throw badArguments('the root cannot be deleted', { path: ROOT_PATH });
    const node = this.existingNode(request.path);
    checkVersion(request.path, request.version, node.version);
    if (this.tree.hierarchy === 'strict' && this.dirAt(request.path).childCount > 0) {
      throw new ShardkvError('NOT_EMPTY', `${request.path} has children`, { path: request.path });
    }
    return this.deletion(request.path, context.zxid);
  }

  private prepareSetData(request: SetDataRequest, context: PrepareContext): MultiSubTxn {
    const node = this.existingNode(request.path);
    const data = this.checkData(request.path, request.data);
    checkVersion(request.path, request.version, node.version);
    const version = node.version + 1;
    this.pending.setNode(context.zxid, request.path, { ...node, version });
    return { type: 'setData', path: request.path, data, version };
  }

  private prepareCheck(request: CheckRequest): MultiSubTxn {
    const node = this.existingNode(request.path);
    checkVersion(request.path, request.version, node.version);
    return { type: 'check', path: request.path };
  }

  /**
   * All or nothing. On the first failing op its changes and those of the ops before it are
   * rolled back, and MULTI_FAILED is thrown with details { failedIndex, failedCode, results }.
   */
  private prepareMulti(request: MultiRequest, context: PrepareContext): Txn {
    if (!Array.isArray(request.ops)) throw badArguments('multi needs an array of ops');
    const mark = this.pending.mark();
    const txns: MultiSubTxn[] = [];
    for (let index = 0; index < request.ops.length; index += 1) {
      try {
        txns.push(this.prepareOp(request.ops[index] as MultiOpRequest, context));
      } catch (error) {
        this.pending.rollback(mark);
        // A fenced range is not the multi's fault: the whole request goes to the new owner.
        if (error instanceof ShardkvError && error.code === 'MOVED') throw error;
        const code: ErrorCode = error instanceof ShardkvError ? error.code : 'INTERNAL';
        const message = error instanceof Error ? error.message : String(error);
        const results: MultiOpFailure[] = request.ops.map((_, other) =>
          other < index
            ? { status: 'rolled_back' }
            : other === index
              ? { status: 'failed', code, message }
              : { status: 'not_run' },
        );
        throw new ShardkvError('MULTI_FAILED', `multi op ${index} (${request.ops[index]?.op}) failed: ${message}`, {
          failedIndex: index,
          failedCode: code,
          results,
        });
      }
    }
    return { type: 'multi', txns };
  }

  // -------------------------------------------------------------------------------------------
  // Sessions and housekeeping

  private prepareCreateSession(request: CreateSessionRequest, context: PrepareContext): Txn {
    const { sessionId, timeout_ms } = request;
    if (!Number.isSafeInteger(sessionId) || sessionId <= 0) {
      throw badArguments(`session id must be a positive integer, got ${sessionId}`);
    }
    if (!Number.isInteger(timeout_ms) || timeout_ms <= 0) {
      throw badArguments(`session timeout must be a positive integer of ms, got ${timeout_ms}`);
    }
    if (this.sessionOpen(sessionId)) throw badArguments(`session ${sessionId} already exists`, { sessionId });
    this.checkFence(() => this.tree.placement?.ofSession(sessionId));
    this.pending.setSessionOpen(context.zxid, sessionId, true);
    return { type: 'createSession', sessionId, timeout_ms };
  }

  /**
   * Closes a session of this tree, or drops the ephemerals here of a session that lives
   * elsewhere (shard groups). SESSION_EXPIRED when there is neither.
   */
  private prepareCloseSession(request: CloseSessionRequest, context: PrepareContext): Txn {
    const { sessionId } = request;
    const paths = new Set(this.tree.sessionEphemerals(sessionId));
    // Pending creates and deletes of this session's ephemerals (ZooKeeper scans its
    // outstanding changes the same way).
    for (const [path, entry] of this.pending.pendingNodes()) {
      if (entry.value === null) paths.delete(path);
      else if (entry.value.kind === 'ephemeral' && entry.value.ephemeralOwner === sessionId) paths.add(path);
      else paths.delete(path);
    }
    const open = this.sessionOpen(sessionId);
    if (!open && paths.size === 0) {
      throw new ShardkvError('SESSION_EXPIRED', `session ${sessionId} is not open here`, { sessionId });
    }
    // A session placed in a fenced range is no longer ours to close: its new owner decides.
    if (open) this.checkFence(() => this.tree.placement?.ofSession(sessionId));
    const sorted = [...paths].sort();
    for (const path of sorted) this.deletion(path, context.zxid);
    if (open) this.pending.setSessionOpen(context.zxid, sessionId, false);
    return { type: 'closeSession', sessionId, paths: sorted };
  }

  private prepareReap(request: ReapRequest, context: PrepareContext): Txn {
    const { path } = request;
    validatePath(path);
    const committed = this.tree.nodeAt(path);
    const notEligible = (why: string): ShardkvError =>
      badArguments(`${path} is not to be reaped: ${why}`, { path });
    // Anything pending on the node or its children means it is in use.
    if (committed === undefined || this.pending.node(path) !== undefined) throw notEligible('it changed');
    this.checkFence(() => this.tree.placement?.ofKey(parentOf(path)));
    const dir = this.dirAt(path);
    if (dir.childCount > 0) throw notEligible('it has children');
    if (committed.kind === 'container') {
      if (dir.creates === 0) throw notEligible('a container that never had children');
    } else if (committed.kind === 'ttl') {
      if (!this.tree.ttlExpired(path, committed, context.now_ms)) throw notEligible('its TTL has not expired');
    } else {
      throw notEligible(`it is a ${committed.kind} node`);
    }
    return this.deletion(path, context.zxid);
  }

  // -------------------------------------------------------------------------------------------
  // Rebalancing (shard groups)

  /**
   * MOVED when the placement hash is fenced, applied or pending: the range is moving to another
   * group, and a write prepared after the fence would miss the copy. `hashOf` is undefined
   * where no placement is set (the meta tree).
   */
  private checkFence(hashOf: () => bigint | undefined): void {
    if (this.tree.placement === undefined) return;
    const hash = hashOf();
    if (hash === undefined) return;
    const fence = this.tree.fenceCovering(hash) ?? this.pendingFences.find((pending) => rangesContain(pending.ranges, hash));
    if (fence !== undefined) {
      throw new ShardkvError('MOVED', `the key's range is moving to another group (fenced until ring version ${fence.toRingVersion})`, {
        ringVersion: fence.toRingVersion,
        fenced: true,
      });
    }
  }

  /**
   * A range txn's coordinator token (fencing token; absent counts as 0): refused with
   * STALE_COORDINATOR when lower than the highest this group has accepted, applied (the
   * replicated COORDINATOR_TOKEN_PATH) or pending. Returns the token to put in the txn.
   */
  private acceptCoordinatorToken(token: unknown): { coordinatorToken?: number } {
    if (token === undefined) token = 0;
    if (typeof token !== 'number' || !Number.isSafeInteger(token) || token < 0) {
      throw badArguments(`a coordinator token is a non-negative integer, got ${JSON.stringify(token)}`);
    }
    const highest = Math.max(this.tree.coordinatorToken, this.pendingToken);
    if (token < highest) {
      throw new ShardkvError('STALE_COORDINATOR', `coordinator token ${token} is older than ${highest}, already accepted by this group`, {
        token, highest,
      });
    }
    this.pendingToken = token;
    return token === 0 ? {} : { coordinatorToken: token };
  }

  private prepareImport(request: ImportNodesRequest, context: PrepareContext): Txn {
    const image = request.image;
    const lists = [image?.nodes, image?.dirs, image?.sessions, image?.deletes, image?.closedSessions];
    if (!lists.every(Array.isArray)) throw badArguments('importNodes needs nodes, dirs, sessions, deletes and closedSessions lists');
    for (const path of [...image.nodes.map((node) => node[0]), ...image.deletes]) {
      if (typeof path === 'string' && path.startsWith(RESERVED_PREFIX)) {
        throw new ShardkvError('BAD_PATH', `an import cannot set ${path} under the reserved ${RESERVED_PREFIX}`, { path });
      }
    }
    const token = this.acceptCoordinatorToken(request.coordinatorToken);
    for (const node of image.nodes) {
      validatePath(node[0]);
      this.checkData(node[0], node[1]);
      this.pending.setNode(context.zxid, node[0], { version: node[6], kind: node[8], ephemeralOwner: node[9] });
    }
    for (const path of image.deletes) {
      validatePath(path);
      this.pending.setNode(context.zxid, path, null);
    }
    return {
      type: 'importNodes', nodes: image.nodes, dirs: image.dirs, sessions: image.sessions,
      deletes: image.deletes, closedSessions: image.closedSessions, ...token,
    };
  }

  private prepareFence(request: FenceRequest, context: PrepareContext): Txn {
    const ranges = parseRanges(request.ranges);
    if (typeof request.fenceId !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(request.fenceId)) {
      throw badArguments(`a fence id is 1-64 letters, digits, '_' or '-', got ${JSON.stringify(request.fenceId)}`);
    }
    if (!Number.isSafeInteger(request.toRingVersion) || request.toRingVersion < 1) throw badArguments('toRingVersion must be a positive integer');
    const token = this.acceptCoordinatorToken(request.coordinatorToken);
    this.pendingFences.push({ zxid: context.zxid, ranges, toRingVersion: request.toRingVersion });
    return { type: 'fence', fenceId: request.fenceId, ranges: request.ranges, toRingVersion: request.toRingVersion, ...token };
  }

  private prepareDropRange(request: DropRangeRequest, context: PrepareContext): Txn {
    if (![request.paths, request.dirs, request.sessions].every(Array.isArray)) throw badArguments('dropRange needs paths, dirs and sessions lists');
    for (const path of request.paths) {
      if (typeof path === 'string' && path.startsWith(RESERVED_PREFIX)) {
        throw new ShardkvError('BAD_PATH', `a range drop cannot delete ${path} under the reserved ${RESERVED_PREFIX}`, { path });
      }
    }
    const token = this.acceptCoordinatorToken(request.coordinatorToken);
    for (const path of request.paths) {
      validatePath(path);
      this.pending.setNode(context.zxid, path, null);
    }
    return {
      type: 'dropRange', paths: request.paths, dirs: request.dirs, sessions: request.sessions,
      ...(request.fenceId === undefined ? {} : { fenceId: request.fenceId }), ...token,
    };
  }
}
