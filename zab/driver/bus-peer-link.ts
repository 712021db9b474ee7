import type { ZabMessage } from '../messages.js';
import type { PeerLink } from './peer-link.js';

/**
 * The part of a publish/subscribe transport a peer link needs. net/'s Transport has this shape;
 * zab/ names it here so that it imports nothing from the transport layer.
 */
export interface MessageBus {
  publish(subject: string, message: unknown): void;
  subscribe(subject: string, handler: (message: { subject: string; data: unknown }) => void): { unsubscribe(): void };
}

/**
 * Peer messages over a bus: each replica listens on its own inbox subject, `inboxOf(id)`.
 * Messages are plain objects, so the bus codec (msgpack) carries them as they are.
 */
export class BusPeerLink implements PeerLink {
  private subscription: { unsubscribe(): void } | undefined;

  constructor(
    private readonly bus: MessageBus,
    private readonly selfId: number,
    private readonly inboxOf: (id: number) => string,
  ) {}

  send(to: number, message: ZabMessage): void {
    this.bus.publish(this.inboxOf(to), message);
  }

  async listen(receive: (message: ZabMessage) => void): Promise<void> {
    this.subscription = this.bus.subscribe(this.inboxOf(this.selfId), ({ data }) => receive(data as ZabMessage));
  }

  async close(): Promise<void> {
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }
}
