/**
 * Which group decides a data-plane session's expiry: exactly one at a time. It is the group
 * that owns the session's placement key at its ring, and only while that key's range is not
 * fenced here (the tree checks fences itself: from the fence on, the range is moving away).
 * Other groups may hold the session (imported for a range moving to them, or still held after
 * the range moved away, until dropped) and never expire it.
 *
 * When the ring hands this group a session, its timeout starts over from that moment: until
 * then its heartbeats went to the old owner (and, from the fence, answered MOVED), so the time
 * since this group last heard of it says nothing.
 */
import type { RingWatch } from '../meta/ring-watch.js';
import type { Ring } from '../ring/index.js';
import type { PlacementHash } from '../znode/range-transfer.js';
import type { ZnodeTree } from '../znode/znode-tree.js';

export interface SessionAuthorityOptions {
  group: string;
  tree: ZnodeTree;
  ring: RingWatch;
  placement: PlacementHash;
}

export class SessionAuthority {
  private previous: Ring;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: SessionAuthorityOptions) {
    this.previous = options.ring.ring;
    options.tree.useSessionAuthority((sessionId) => this.owns(options.ring.ring, sessionId));
    // RingWatch installs a ring and calls its listeners in one go: no expiry check runs between.
    this.unsubscribe = options.ring.onChange((ring) => this.onRing(ring));
  }

  stop(): void {
    this.unsubscribe();
  }

  private owns(ring: Ring, sessionId: number): boolean {
    return ring.groupCount > 0 && ring.ownerOfHash(this.options.placement.ofSession(sessionId)) === this.options.group;
  }

  private onRing(ring: Ring): void {
    const previous = this.previous;
    this.previous = ring;
    const now_ms = Date.now();
    for (const sessionId of this.options.tree.sessionIds()) {
      if (this.owns(ring, sessionId) && !this.owns(previous, sessionId)) this.options.tree.touchSession(sessionId, now_ms);
    }
  }
}
