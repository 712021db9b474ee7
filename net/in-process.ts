import type { Logger } from 'pino';
import { ShardkvError } from '../errors/codes.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { MessageQueue } from './message-queue.js';
import { answerRequest, runMessageHandler } from './dispatch.js';
import { openReply } from './reply.js';
import { assertSubject, subjectMatches } from './subject-pattern.js';
import { connectionLossError, noRespondersError, timeoutError } from './transport-errors.js';
import type {
  InboundMessage, MessageHandler, MessageStream, RequestHandler, RequestOptions, SubscribeOptions,
  Subscription, Transport,
} from './transport.js';

/**
 * The in-process transport: one InProcessBus per process stands in for the NATS server,
 * and each node (replica, router) connects its own InProcessTransport to it, so closing
 * one node's transport leaves the others running. Used by the embedded `dev` cluster and
 * by tests.
 *
 * Behaves like NATS where it matters to callers: every message is encoded and decoded
 * (receivers get copies), delivery is asynchronous (never inside publish()), all
 * messages go through one FIFO so per-sender order holds, subjects are routed when the
 * message is delivered (not when it is published), a request with no subscriber fails
 * fast, and queue groups give each message to one member.
 */

export interface InProcessTransportOptions {
  logger: Logger;
  /** Messages an unconsumed message stream may hold before new ones are dropped. Default 65536. */
  max_pending?: number;
  /** Bound on close() waiting for running request handlers. Default 5000. */
  close_timeout_ms?: number;
}

interface BusSubscription {
  readonly pattern: string;
  readonly queue: string | undefined;
  deliver(subject: string, bytes: Uint8Array, replyTo: string | undefined): void;
}

interface PendingReply {
  onReply(bytes: Uint8Array): void;
  onNoResponders(): void;
}

type BusItem =
  | { kind: 'message'; subject: string; bytes: Uint8Array; replyTo: string | undefined }
  | { kind: 'marker'; reached: () => void };

export class InProcessBus {
  /** Subscriptions without wildcards, by subject: the common case, found without a scan. */
  private readonly exact = new Map<string, Set<BusSubscription>>();
  private readonly wildcard = new Set<BusSubscription>();
  private readonly inboxes = new Map<string, PendingReply>();
  private queue: BusItem[] = [];
  private drainScheduled = false;
  private queueGroupTurn = 0;
  private inboxCount = 0;

  connect(options: InProcessTransportOptions): InProcessTransport {
    return new InProcessTransport(this, options);
  }

  add(subscription: BusSubscription): void {
    if (/[*>]/.test(subscription.pattern)) {
      this.wildcard.add(subscription);
      return;
    }
    let set = this.exact.get(subscription.pattern);
    if (set === undefined) {
      set = new Set();
      this.exact.set(subscription.pattern, set);
    }
    set.add(subscription);
  }

  remove(subscription: BusSubscription): void {
    this.wildcard.delete(subscription);
    const set = this.exact.get(subscription.pattern);
    if (set === undefined) return;
    set.delete(subscription);
    if (set.size === 0) this.exact.delete(subscription.pattern);
  }

  openInbox(pending: PendingReply): string {
    this.inboxCount += 1;
    const inbox = `_INBOX.${this.inboxCount}`;
    this.inboxes.set(inbox, pending);
    return inbox;
  }

  closeInbox(inbox: string): void {
    this.inboxes.delete(inbox);
  }

  enqueue(item: BusItem): void {
    this.queue.push(item);
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    // setImmediate rather than a microtask: handlers that publish cannot starve I/O and timers.
    setImmediate(() => this.drain());
  }

  /** Delivers the items queued so far; items they enqueue wait for the next round. */
  private drain(): void {
    this.drainScheduled = false;
    const batch = this.queue;
    this.queue = [];
    for (const item of batch) {
      if (item.kind === 'marker') item.reached();
      else this.route(item.subject, item.bytes, item.replyTo);
    }
  }

  private route(subject: string, bytes: Uint8Array, replyTo: string | undefined): void {
    const inbox = this.inboxes.get(subject);
    if (inbox !== undefined) {
      this.inboxes.delete(subject);
      inbox.onReply(bytes);
      return;
    }
    const targets = this.targets(subject);
    if (targets.length === 0 && replyTo !== undefined) {
      const requester = this.inboxes.get(replyTo);
      this.inboxes.delete(replyTo);
      requester?.onNoResponders();
      return;
    }
    for (const target of targets) target.deliver(subject, bytes, replyTo);
  }

  /** Every plain subscriber, plus one member of each queue group (taking turns). */
  private targets(subject: string): BusSubscription[] {
    const targets: BusSubscription[] = [];
    const groups = new Map<string, BusSubscription[]>();
    const consider = (subscription: BusSubscription) => {
      if (subscription.queue === undefined) {
        targets.push(subscription);
        return;
      }
      const key = `${subscription.pattern} ${subscription.queue}`;
      const members = groups.get(key);
      if (members === undefined) groups.set(key, [subscription]);
      else members.push(subscription);
    };
    for (const subscription of this.exact.get(subject) ?? []) consider(subscription);
    for (const subscription of this.wildcard) {
      if (subjectMatches(subscription.pattern, subject)) consider(subscription);
    }
    for (const members of groups.values()) {
      this.queueGroupTurn += 1;
      targets.push(members[this.queueGroupTurn % members.length]!);
    }
    return targets;
  }
}

type State = 'open' | 'closing' | 'closed';

interface LocalSubscription extends BusSubscription {
  stop(): void;
}

export class InProcessTransport implements Transport {
  readonly kind = 'in-process' as const;
  private state: State = 'open';
  private readonly subscriptions = new Set<LocalSubscription>();
  private readonly pendingRequests = new Set<(error: ShardkvError) => void>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly closedPromise: Promise<void>;
  private resolveClosed!: () => void;
  private readonly logger: Logger;
  private readonly max_pending: number;
  private readonly close_timeout_ms: number;

  constructor(private readonly bus: InProcessBus, options: InProcessTransportOptions) {
    this.logger = options.logger;
    this.max_pending = options.max_pending ?? 65_536;
    this.close_timeout_ms = options.close_timeout_ms ?? 5000;
    this.closedPromise = new Promise((resolve) => { this.resolveClosed = resolve; });
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  publish(subject: string, message: unknown): void {
    this.assertOpen();
    assertSubject(subject, 'publish');
    this.bus.enqueue({ kind: 'message', subject, bytes: encodeMessage(message), replyTo: undefined });
  }

  subscribe(subject: string, handler: MessageHandler, options?: SubscribeOptions): Subscription;
  subscribe(subject: string, options?: SubscribeOptions): MessageStream;
  subscribe(
    subject: string,
    handlerOrOptions?: MessageHandler | SubscribeOptions,
    maybeOptions?: SubscribeOptions,
  ): Subscription | MessageStream {
    this.assertOpen();
    assertSubject(subject, 'subscribe');
    if (typeof handlerOrOptions === 'function') {
      const handler = handlerOrOptions;
      return this.register(subject, maybeOptions?.queue, (message) => runMessageHandler(handler, message, this.logger), () => {});
    }
    let subscription: Subscription | undefined;
    const queue = new MessageQueue(
      this.max_pending,
      (dropped) => this.logger.warn({ subject: dropped.subject, max_pending: this.max_pending }, 'slow consumer: message dropped'),
      () => subscription?.unsubscribe(),
    );
    subscription = this.register(subject, handlerOrOptions?.queue, (message) => queue.push(message), () => queue.end());
    return Object.assign(subscription, { [Symbol.asyncIterator]: () => queue[Symbol.asyncIterator]() });
  }

  serve(subject: string, handler: RequestHandler, options?: SubscribeOptions): Subscription {
    this.assertOpen();
    assertSubject(subject, 'subscribe');
    const local: LocalSubscription = {
      pattern: subject,
      queue: options?.queue,
      deliver: (messageSubject, bytes, replyTo) => {
        if (replyTo === undefined) {
          this.logger.debug({ subject: messageSubject }, 'message without reply subject on a served subject ignored');
          return;
        }
        const work = this.answer(handler, messageSubject, bytes, replyTo);
        this.inFlight.add(work);
        void work.finally(() => this.inFlight.delete(work));
      },
      stop: () => {},
    };
    return this.track(local);
  }

  async request<Reply = unknown>(subject: string, message: unknown, options: RequestOptions): Promise<Reply> {
    this.assertOpen();
    assertSubject(subject, 'publish');
    const bytes = encodeMessage(message);
    return new Promise<Reply>((resolve, reject) => {
      let inbox = '';
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        this.bus.closeInbox(inbox);
        this.pendingRequests.delete(abort);
        settle();
      };
      const abort = (error: ShardkvError) => finish(() => reject(error));
      const timer = setTimeout(() => abort(timeoutError(subject, options.timeout_ms)), options.timeout_ms);
      inbox = this.bus.openInbox({
        onReply: (replyBytes) => finish(() => {
          try {
            resolve(openReply(decodeMessage(replyBytes), subject) as Reply);
          } catch (err) {
            reject(err);
          }
        }),
        onNoResponders: () => abort(noRespondersError(subject, options.noRespondersCode)),
      });
      this.pendingRequests.add(abort);
      this.bus.enqueue({ kind: 'message', subject, bytes, replyTo: inbox });
    });
  }

  flush(): Promise<void> {
    return new Promise((resolve) => this.bus.enqueue({ kind: 'marker', reached: resolve }));
  }

  closed(): Promise<void> {
    return this.closedPromise;
  }

  async close(): Promise<void> {
    if (this.state !== 'open') return this.closedPromise;
    this.state = 'closing';
    for (const subscription of [...this.subscriptions]) this.untrack(subscription);
    for (const abort of [...this.pendingRequests]) abort(connectionLossError('transport closed before the reply'));
    // Let handlers already running send their replies (as a NATS drain does), within a bound.
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => { timer = setTimeout(() => resolve('late'), this.close_timeout_ms); });
    const outcome = await Promise.race([Promise.allSettled([...this.inFlight]), late]);
    clearTimeout(timer);
    if (outcome === 'late') {
      this.logger.warn({ handlers: this.inFlight.size, close_timeout_ms: this.close_timeout_ms }, 'request handlers still running at close');
    }
    await this.flush();
    this.state = 'closed';
    this.resolveClosed();
  }

  private register(
    subject: string,
    queue: string | undefined,
    receive: (message: InboundMessage) => void,
    stop: () => void,
  ): Subscription {
    return this.track({
      pattern: subject,
      queue,
      deliver: (messageSubject, bytes) => {
        let data: unknown;
        try {
          data = decodeMessage(bytes);
        } catch (err) {
          this.logger.error({ subject: messageSubject, err }, 'undecodable message dropped');
          return;
        }
        receive({ subject: messageSubject, data });
      },
      stop,
    });
  }

  private track(local: LocalSubscription): Subscription {
    this.subscriptions.add(local);
    this.bus.add(local);
    const transport = this;
    return {
      subject: local.pattern,
      get isClosed() { return !transport.subscriptions.has(local); },
      unsubscribe: () => transport.untrack(local),
    };
  }

  private untrack(local: LocalSubscription): void {
    if (!this.subscriptions.delete(local)) return;
    this.bus.remove(local);
    local.stop();
  }


  private async answer(handler: RequestHandler, subject: string, bytes: Uint8Array, replyTo: string): Promise<void> {
    const reply = await answerRequest(handler, subject, bytes, this.logger);
    this.bus.enqueue({ kind: 'message', subject: replyTo, bytes: reply, replyTo: undefined });
  }

  private assertOpen(): void {
    if (this.state !== 'open') throw connectionLossError(`in-process transport is ${this.state}`);
  }
}
