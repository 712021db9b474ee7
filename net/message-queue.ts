import { ShardkvError } from '../errors/codes.js';
import type { InboundMessage } from './transport.js';

/**
 * The buffer behind an iterator subscription of the in-process transport: messages wait
 * here until the consumer pulls them. Bounded, like a NATS client's pending limit: past
 * max_pending a new message is dropped and onDrop is told (a "slow consumer").
 * end() lets the consumer take what is queued, then finishes the iteration; a consumer
 * that stops iterating early (break) calls onReturn, which unsubscribes.
 */
export class MessageQueue implements AsyncIterable<InboundMessage> {
  private readonly pending: InboundMessage[] = [];
  private waiter: ((result: IteratorResult<InboundMessage>) => void) | undefined;
  private ended = false;
  private iterated = false;

  constructor(
    private readonly max_pending: number,
    private readonly onDrop: (message: InboundMessage) => void,
    private readonly onReturn: () => void,
  ) {}

  push(message: InboundMessage): void {
    if (this.ended) return;
    if (this.waiter !== undefined) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake({ value: message, done: false });
      return;
    }
    if (this.pending.length >= this.max_pending) {
      this.onDrop(message);
      return;
    }
    this.pending.push(message);
  }

  end(): void {
    this.ended = true;
    if (this.waiter !== undefined) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<InboundMessage> {
    if (this.iterated) throw new ShardkvError('BAD_ARGUMENTS', 'a message stream can be iterated only once');
    this.iterated = true;
    return {
      next: () => {
        const message = this.pending.shift();
        if (message !== undefined) return Promise.resolve({ value: message, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => { this.waiter = resolve; });
      },
      return: () => {
        this.end();
        this.pending.length = 0;
        this.onReturn();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
