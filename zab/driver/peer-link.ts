import type { ZabMessage } from '../messages.js';

/** How a ZAB replica reaches its peers (NATS or in-process, see net/); delivery is best effort. */
export interface PeerLink {
  send(to: number, message: ZabMessage): void;
  /** Starts delivering peer messages addressed to this replica to `receive`. */
  listen(receive: (message: ZabMessage) => void): Promise<void>;
  close(): Promise<void>;
}
