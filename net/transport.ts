import type { ErrorCode } from '../errors/codes.js';

/**
 * The transport interface shared by the NATS and the in-process implementations.
 * Messages are plain values encoded with the one codec (net/codec.ts); each receiver gets
 * its own decoded copy. Errors thrown are ShardkvError with a stable code (see README).
 */

/** The optional header most peer and client messages carry (DESIGN.md, "Transport"). */
export interface Envelope<Body> {
  /** The sender's ring version, where the message depends on placement. */
  ringVersion?: number;
  /** The sender's ZAB epoch, where the message is part of replication. */
  epoch?: number;
  body: Body;
}

export interface InboundMessage {
  subject: string;
  data: unknown;
}

export type MessageHandler = (message: InboundMessage) => void | Promise<void>;

export interface SubscribeOptions {
  /** Queue group: each message goes to one member of the group instead of to all. */
  queue?: string;
}

export interface Subscription {
  /** The subject (or pattern) subscribed to. */
  readonly subject: string;
  readonly isClosed: boolean;
  /** Stops delivery. Idempotent. */
  unsubscribe(): void;
}

/** A subscription consumed as an async iterator; iteration ends after unsubscribe or close. */
export interface MessageStream extends Subscription, AsyncIterable<InboundMessage> {}

export interface RequestOptions {
  /** The deadline: past it the request fails with TIMEOUT. */
  timeout_ms: number;
  /**
   * Code of the error when nobody is subscribed to the subject (fails fast, without
   * waiting for the deadline). Default UNAVAILABLE; a request to a leader subject says NO_LEADER.
   */
  noRespondersCode?: ErrorCode;
}

export interface RequestContext {
  subject: string;
}

/** Answers one request. A thrown ShardkvError reaches the requester with its code, message and details. */
export type RequestHandler = (request: unknown, context: RequestContext) => unknown;

export type TransportKind = 'nats' | 'in-process';

export interface Transport {
  readonly kind: TransportKind;
  /** True once close() finished or the connection was lost for good. */
  readonly isClosed: boolean;

  /** Fire and forget. Throws CONNECTION_LOSS once closed. */
  publish(subject: string, message: unknown): void;

  /** Subject may hold NATS wildcards (`*` one token, `>` the rest). */
  subscribe(subject: string, handler: MessageHandler, options?: SubscribeOptions): Subscription;
  subscribe(subject: string, options?: SubscribeOptions): MessageStream;

  /**
   * Sends a request and waits for one reply. Rejects with TIMEOUT after timeout_ms,
   * with options.noRespondersCode (default UNAVAILABLE) at once when nobody serves the
   * subject, with CONNECTION_LOSS when the transport is closed, and with the responder's
   * own error when its handler threw.
   */
  request<Reply = unknown>(subject: string, message: unknown, options: RequestOptions): Promise<Reply>;

  /** Answers requests on subject with handler; the reply is the handler's (awaited) result. */
  serve(subject: string, handler: RequestHandler, options?: SubscribeOptions): Subscription;

  /** Resolves once subscriptions and messages sent before it have reached the bus/server. */
  flush(): Promise<void>;

  /** Resolves when the transport is closed (by close() or for good by the network). */
  closed(): Promise<void>;

  /** Stops new deliveries, lets in-flight request handlers reply, then closes. Idempotent. */
  close(): Promise<void>;
}
