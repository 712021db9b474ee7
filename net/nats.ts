import { connect, Events, NatsError, type Msg, type NatsConnection, type Subscription as NatsSubscription } from 'nats';
import type { Logger } from 'pino';
import { ShardkvError } from '../errors/codes.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { answerRequest, runMessageHandler } from './dispatch.js';
import { openReply } from './reply.js';
import { assertSubject } from './subject-pattern.js';
import { connectionLossError, noRespondersError, timeoutError } from './transport-errors.js';
import type {
  InboundMessage, MessageHandler, MessageStream, RequestHandler, RequestOptions, SubscribeOptions,
  Subscription, Transport,
} from './transport.js';

export interface NatsTransportOptions {
  /** One URL or several, e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  logger: Logger;
  /** Client name shown by the server (e.g. `meta-m1`). */
  name?: string;
  /** How long the first connection attempt may take. Default 5000. */
  connect_timeout_ms?: number;
  /** Pause between reconnect attempts. Default 250. */
  reconnect_wait_ms?: number;
  /** -1 (default) reconnects forever; the process decides when to give up, not the client. */
  max_reconnect_attempts?: number;
  /** Bound on close(): past it the connection is closed without finishing the drain. Default 5000. */
  close_timeout_ms?: number;
}

/** Connects to NATS (reconnecting on loss) and returns the transport; CONNECTION_LOSS if the first connect fails. */
export async function connectNats(options: NatsTransportOptions): Promise<NatsTransport> {
  let connection: NatsConnection;
  try {
    connection = await connect({
      servers: options.servers,
      name: options.name,
      timeout: options.connect_timeout_ms ?? 5000,
      reconnect: true,
      reconnectTimeWait: options.reconnect_wait_ms ?? 250,
      maxReconnectAttempts: options.max_reconnect_attempts ?? -1,
      // nats.js otherwise builds a stack-traced Error for every request in case it times out
      // (about 7 % of a router's CPU, bench/vs/PROFILE.md); our errors carry codes instead.
      noAsyncTraces: true,
    });
  } catch (err) {
    throw connectionLossError(`cannot connect to NATS at ${String(options.servers)}: ${(err as Error).message}`);
  }
  options.logger.info({ server: connection.getServer(), name: options.name }, 'nats connected');
  return new NatsTransport(connection, options.logger, options.close_timeout_ms ?? 5000);
}

/** Maps an error of the nats client to the ShardkvError callers see (same codes as the in-process transport). */
export function fromNatsError(err: unknown, subject: string, options?: RequestOptions): ShardkvError {
  if (err instanceof ShardkvError) return err;
  if (!(err instanceof NatsError)) return new ShardkvError('INTERNAL', `nats client failed on ${subject}: ${String(err)}`);
  const known: Record<string, () => ShardkvError> = {
    '503': () => noRespondersError(subject, options?.noRespondersCode),
    TIMEOUT: () => timeoutError(subject, options?.timeout_ms ?? 0),
    CONNECTION_CLOSED: () => connectionLossError(`nats connection closed (${subject})`),
    CONNECTION_DRAINING: () => connectionLossError(`nats connection draining (${subject})`),
    CONNECTION_REFUSED: () => connectionLossError(`nats connection refused (${subject})`),
    DISCONNECT: () => connectionLossError(`nats disconnected (${subject})`),
    BAD_SUBJECT: () => new ShardkvError('BAD_ARGUMENTS', `invalid subject ${JSON.stringify(subject)}`),
    MAX_PAYLOAD_EXCEEDED: () => new ShardkvError('DATA_TOO_LARGE', `message to ${subject} exceeds the NATS server's max_payload`),
  };
  const mapped = known[err.code];
  if (mapped !== undefined) return mapped();
  return new ShardkvError('UNAVAILABLE', `nats error on ${subject}: ${err.message}`, { natsCode: err.code });
}

export class NatsTransport implements Transport {
  readonly kind = 'nats' as const;
  private readonly serving = new Set<NatsSubscription>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closedPromise: Promise<void>;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly connection: NatsConnection,
    private readonly logger: Logger,
    private readonly close_timeout_ms: number,
  ) {
    void this.logStatus();
    this.closedPromise = connection.closed().then((err) => {
      if (err) logger.error({ err }, 'nats connection closed with an error');
      else logger.info('nats connection closed');
    });
  }

  get isClosed(): boolean {
    return this.connection.isClosed();
  }

  /** The server currently connected to (for logs and status output). */
  get server(): string {
    return this.connection.getServer();
  }

  publish(subject: string, message: unknown): void {
    assertSubject(subject, 'publish');
    const bytes = encodeMessage(message);
    try {
      this.connection.publish(subject, bytes);
    } catch (err) {
      throw fromNatsError(err, subject);
    }
  }

  subscribe(subject: string, handler: MessageHandler, options?: SubscribeOptions): Subscription;
  subscribe(subject: string, options?: SubscribeOptions): MessageStream;
  subscribe(
    subject: string,
    handlerOrOptions?: MessageHandler | SubscribeOptions,
    maybeOptions?: SubscribeOptions,
  ): Subscription | MessageStream {
    assertSubject(subject, 'subscribe');
    if (typeof handlerOrOptions === 'function') {
      const handler = handlerOrOptions;
      const sub = this.natsSubscribe(subject, {
        queue: maybeOptions?.queue,
        callback: (err, msg) => {
          if (err) {
            this.logger.error({ subject, err }, 'nats subscription error');
            return;
          }
          const message = this.inbound(msg);
          if (message !== undefined) runMessageHandler(handler, message, this.logger);
        },
      });
      return wrapSubscription(sub, subject);
    }
    const sub = this.natsSubscribe(subject, { queue: handlerOrOptions?.queue });
    const transport = this;
    async function* messages(): AsyncGenerator<InboundMessage> {
      try {
        for await (const msg of sub) {
          const message = transport.inbound(msg);
          if (message !== undefined) yield message;
        }
      } finally {
        // A consumer that stops iterating early no longer wants messages.
        if (!sub.isClosed()) sub.unsubscribe();
      }
    }
    return Object.assign(wrapSubscription(sub, subject), { [Symbol.asyncIterator]: () => messages() });
  }

  serve(subject: string, handler: RequestHandler, options?: SubscribeOptions): Subscription {
    assertSubject(subject, 'subscribe');
    const sub = this.natsSubscribe(subject, {
      queue: options?.queue,
      callback: (err, msg) => {
        if (err) {
          this.logger.error({ subject, err }, 'nats subscription error');
          return;
        }
        if (!msg.reply) {
          this.logger.debug({ subject: msg.subject }, 'message without reply subject on a served subject ignored');
          return;
        }
        const work = this.answer(handler, msg);
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      },
    });
    this.serving.add(sub);
    void sub.closed.then(() => this.serving.delete(sub));
    return wrapSubscription(sub, subject);
  }

  async request<Reply = unknown>(subject: string, message: unknown, options: RequestOptions): Promise<Reply> {
    assertSubject(subject, 'publish');
    const bytes = encodeMessage(message);
    let reply: Msg;
    try {
      reply = await this.connection.request(subject, bytes, { timeout: options.timeout_ms });
    } catch (err) {
      throw fromNatsError(err, subject, options);
    }
    return openReply(decodeMessage(reply.data), subject) as Reply;
  }

  async flush(): Promise<void> {
    try {
      await this.connection.flush();
    } catch (err) {
      throw fromNatsError(err, 'flush');
    }
  }

  closed(): Promise<void> {
    return this.closedPromise;
  }

  close(): Promise<void> {
    this.closing ??= this.drainAndClose();
    return this.closing;
  }

  private async drainAndClose(): Promise<void> {
    if (this.connection.isClosed()) return this.closedPromise;
    const drain = async () => {
      // Stop taking requests, let running handlers reply, then drain the rest and close.
      await Promise.allSettled([...this.serving].map((sub) => sub.drain()));
      await Promise.allSettled([...this.inFlight]);
      await this.connection.drain();
    };
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), this.close_timeout_ms); });
    const outcome = await Promise.race([drain().then(() => 'drained' as const, (err: unknown) => err), deadline]);
    clearTimeout(timer);
    if (outcome !== 'drained') {
      this.logger.warn({ outcome: outcome === 'late' ? `drain took over ${this.close_timeout_ms} ms` : String(outcome) }, 'nats drain incomplete; closing');
    }
    // A drain while disconnected resolves without closing the connection (nats 2.29): close it.
    if (!this.connection.isClosed()) await this.connection.close();
    return this.closedPromise;
  }

  /** Subscribes, turning the client's synchronous errors (closed connection, bad subject) into ShardkvError. */
  private natsSubscribe(subject: string, options: Parameters<NatsConnection['subscribe']>[1]): NatsSubscription {
    try {
      return this.connection.subscribe(subject, options);
    } catch (err) {
      throw fromNatsError(err, subject);
    }
  }

  private inbound(msg: Msg): InboundMessage | undefined {
    try {
      return { subject: msg.subject, data: decodeMessage(msg.data) };
    } catch (err) {
      this.logger.error({ subject: msg.subject, err }, 'undecodable message dropped');
      return undefined;
    }
  }


  private async answer(handler: RequestHandler, msg: Msg): Promise<void> {
    const reply = await answerRequest(handler, msg.subject, msg.data, this.logger);
    if (!msg.respond(reply)) this.logger.debug({ subject: msg.subject }, 'reply not sent: connection closed');
  }

  private async logStatus(): Promise<void> {
    for await (const status of this.connection.status()) {
      const fields = { type: status.type, data: status.data };
      if (status.type === Events.Disconnect || status.type === Events.Error || status.type === Events.LDM) {
        this.logger.warn(fields, 'nats status');
      } else if (status.type === Events.Reconnect) {
        this.logger.info(fields, 'nats status');
      } else {
        this.logger.debug(fields, 'nats status');
      }
    }
  }
}

function wrapSubscription(sub: NatsSubscription, subject: string): Subscription {
  return {
    subject,
    get isClosed() { return sub.isClosed(); },
    unsubscribe: () => {
      if (!sub.isClosed()) sub.unsubscribe();
    },
  };
}
