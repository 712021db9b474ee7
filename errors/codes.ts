/**
 * The one table of shardkv error codes. Every layer throws ShardkvError with one of these
 * codes; the router maps the code to its HTTP status from here, the CLI to its exit status.
 * Names follow ZooKeeper's KeeperException codes where one exists.
 */
export const ERROR_CODES = {
  // Bad input (the caller can fix it).
  BAD_PATH: { http: 400, description: 'the path is not a valid znode path' },
  BAD_ARGUMENTS: { http: 400, description: 'a parameter or body is malformed or out of range' },
  BAD_VERSION: { http: 409, description: 'the node version does not match the expected one' },
  DATA_TOO_LARGE: { http: 413, description: 'the data exceeds the configured size limit' },
  // The namespace.
  NO_NODE: { http: 404, description: 'the node does not exist' },
  NODE_EXISTS: { http: 409, description: 'the node already exists' },
  NOT_EMPTY: { http: 409, description: 'the node has children' },
  NO_CHILDREN_FOR_EPHEMERALS: { http: 409, description: 'ephemeral nodes cannot have children' },
  NO_PARENT: { http: 404, description: 'the parent node does not exist' },
  UNKNOWN_ROUTE: { http: 404, description: 'no such API route or method' },
  CROSS_SHARD_MULTI: { http: 400, description: 'a multi spans directories owned by different groups' },
  MULTI_FAILED: { http: 409, description: 'an operation of the multi failed; none was applied' },
  // Sessions.
  SESSION_EXPIRED: { http: 404, description: 'the session is unknown or has expired' },
  SESSION_MOVED: { http: 409, description: 'the session is owned by another group' },
  // Cluster state (retry may help).
  MOVED: { http: 421, description: 'this group does not own the placement key at the given ring version' },
  NOT_LEADER: { http: 503, description: 'this replica is not the leader' },
  NO_LEADER: { http: 503, description: 'no leader could be reached for the group' },
  UNAVAILABLE: { http: 503, description: 'the service cannot answer now' },
  REBALANCE_IN_PROGRESS: { http: 409, description: 'a rebalance is running; wait for it to finish' },
  STALE_COORDINATOR: { http: 409, description: 'a newer rebalance coordinator has acted on this group; this one must stop' },
  TIMEOUT: { http: 504, description: 'no answer before the deadline' },
  CONNECTION_LOSS: { http: 503, description: 'the transport to the cluster was lost' },
  // Storage.
  CORRUPT_LOG: { http: 500, description: 'a transaction log record in the middle of a segment is corrupt' },
  CORRUPT_SNAPSHOT: { http: 500, description: 'a snapshot file is corrupt' },
  INTERNAL: { http: 500, description: 'an internal invariant failed' },
} as const satisfies Record<string, { http: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error with a stable machine-readable code (from ERROR_CODES) and a human message. */
export class ShardkvError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ShardkvError';
    this.code = code;
    this.details = details;
  }

  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }

  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}

/** Throws INTERNAL when an invariant does not hold. Used in production code, not only tests. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ShardkvError('INTERNAL', `invariant violated: ${message}`);
}
