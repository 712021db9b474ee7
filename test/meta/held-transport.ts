/**
 * A transport that can hold its outgoing requests (they wait, then go out on release): a client
 * that is slow to reach the cluster, for tests of what it sees when it comes back. Everything
 * else is passed through to the wrapped transport.
 */
import type {
  MessageHandler, MessageStream, RequestOptions, SubscribeOptions, Subscription, Transport,
} from '../../net/transport.js';

export class HeldTransport implements Transport {
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  constructor(private readonly inner: Transport) {}

  get kind() {
    return this.inner.kind;
  }

  get isClosed(): boolean {
    return this.inner.isClosed;
  }

  /** Requests from now on wait until release(). */
  hold(): void {
    if (this.gate !== undefined) return;
    this.gate = new Promise((resolve) => { this.open = resolve; });
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
    this.open = undefined;
  }

  publish(subject: string, message: unknown): void {
    this.inner.publish(subject, message);
  }

  subscribe(subject: string, handler: MessageHandler, options?: SubscribeOptions): Subscription;
  subscribe(subject: string, options?: SubscribeOptions): MessageStream;
  subscribe(subject: string, second?: MessageHandler | SubscribeOptions, third?: SubscribeOptions): Subscription | MessageStream {
    return typeof second === 'function' ? this.inner.subscribe(subject, second, third) : this.inner.subscribe(subject, second);
  }

  async request<Reply = unknown>(subject: string, message: unknown, options: RequestOptions): Promise<Reply> {
    if (this.gate !== undefined) await this.gate;
    return this.inner.request<Reply>(subject, message, options);
  }

  serve(...args: Parameters<Transport['serve']>): Subscription {
    return this.inner.serve(...args);
  }

  flush(): Promise<void> {
    return this.inner.flush();
  }

  closed(): Promise<void> {
    return this.inner.closed();
  }

  close(): Promise<void> {
    this.release();
    return this.inner.close();
  }
}
