/** The shardkv TypeScript SDK (HTTP only): see shardkv-client.ts and router/http/README.md. */
export { ShardkvClient, type ShardkvClientOptions, type CreateOptions, type ReadOptions, type SessionRef } from './shardkv-client.js';
export { Session, type SessionState, type WatchEventStream } from './session.js';
export { ShardkvClientError } from './client-error.js';
export { parseEventStream, type ServerSentEvent } from './event-stream-parser.js';
export * from './types.js';
export * from './recipes/index.js';
