/**
 * A distributed FIFO queue following Apache Curator's DistributedQueue, with the blocking calls
 * of its SimpleDistributedQueue (offer/poll/take as put/poll/take).
 *
 * Same: put() creates a PERSISTENT_SEQUENTIAL `qn-` node in the queue directory (so one group
 * orders every item); consumers list the directory, take the lowest sequence first, read it and
 * delete it; a consumer whose delete finds the node gone lost the race and tries the next, so
 * each item is taken by exactly one consumer, in order. take() waits on a child watch.
 *
 * Differs: items are encoded with a serializer (JSON by default) rather than Curator's
 * QueueSerializer; there is no consumer callback, lock-safe mode or error queue: take() returns
 * the item, and an item is gone once taken (Curator's default, at-most-once, mode).
 *
 *   const queue = new DistributedQueue<Job>(session, '/queues/jobs');
 *   await queue.put({ id: 7 });
 *   const job = await queue.take({ timeout_ms: 5000 });   // undefined on timeout
 */
import { ShardkvClientError } from '../client-error.js';
import type { Session } from '../session.js';
import { childPath, isCode, sortedParticipants } from './sequential-nodes.js';
import { SessionWatches, sessionLostError } from './session-watches.js';

const PREFIX = 'qn-';

export interface QueueSerializer<T> {
  serialize(item: T): string;
  deserialize(text: string): T;
}

const JSON_SERIALIZER: QueueSerializer<unknown> = {
  serialize: (item) => JSON.stringify(item),
  deserialize: (text) => JSON.parse(text) as unknown,
};

export class DistributedQueue<T> {
  private readonly serializer: QueueSerializer<T>;

  constructor(
    readonly session: Session,
    readonly path: string,
    serializer?: QueueSerializer<T>,
  ) {
    this.serializer = serializer ?? (JSON_SERIALIZER as QueueSerializer<T>);
  }

  /** Appends an item; answers its node's path. */
  async put(item: T): Promise<string> {
    const created = await this.session.client.create(childPath(this.path, PREFIX), this.serializer.serialize(item), { mode: 'persistent_sequential' });
    return created.path;
  }

  /** Items waiting, in order. */
  async size(): Promise<number> {
    return (await this.queued(false)).length;
  }

  /** Takes the head item, or undefined when the queue is empty. */
  async poll(): Promise<T | undefined> {
    const taken = await this.takeFrom(await this.queued(false));
    return taken?.item;
  }

  /** Takes the head item, waiting for one; undefined once `timeout_ms` has passed. */
  async take(options: { timeout_ms?: number } = {}): Promise<T | undefined> {
    const deadline = options.timeout_ms === undefined ? undefined : Date.now() + options.timeout_ms;
    const watches = await SessionWatches.for(this.session);
    for (;;) {
      const wakeup = watches.arm([this.path]);
      const taken = await this.takeFrom(await this.queued(true)).catch((err: unknown) => {
        wakeup.cancel();
        throw err;
      });
      if (taken !== undefined) {
        wakeup.cancel();
        return taken.item;
      }
      const reason = await wakeup.wait(deadline === undefined ? undefined : deadline - Date.now());
      if (reason.kind === 'timeout') return undefined;
      if (reason.kind === 'session-lost') throw sessionLostError(`queue ${this.path}`);
      if (reason.kind === 'cancelled') throw new ShardkvClientError('ABORTED', 0, `take from ${this.path} was cancelled`);
    }
  }

  private async queued(watch: boolean): Promise<string[]> {
    return sortedParticipants((await this.session.children(this.path, { watch })).children, [PREFIX]);
  }

  /** Takes the first of `names` this consumer wins (read, then delete: the deleter owns it). */
  private async takeFrom(names: readonly string[]): Promise<{ item: T } | undefined> {
    for (const name of names) {
      const path = childPath(this.path, name);
      try {
        const node = await this.session.client.get(path);
        await this.session.client.delete(path, { version: node.stat.version });
        return { item: this.serializer.deserialize(node.text ?? '') };
      } catch (err) {
        if (!isCode(err, 'NO_NODE')) throw err;
      }
    }
    return undefined;
  }
}
