/**
 * Sessions bookkeeping: the replicated part (open sessions with their timeouts; the index
 * session -> ephemeral paths, derived from the nodes) and the local part (when each session was
 * last heard from: heartbeats are not log writes, so only the leader's memory has them).
 */
export class SessionTable {
  /** Replicated: open sessions -> timeout_ms. */
  private readonly timeouts = new Map<number, number>();
  /** Derived from the nodes: owner -> its ephemeral paths (also for sessions owned elsewhere). */
  private readonly ephemerals = new Map<number, Set<string>>();
  /** Local: session -> last heard, in the caller's clock. */
  private readonly lastHeard = new Map<number, number>();

  /** Records an open session (liveness untouched: see touch and restartLiveness). */
  open(sessionId: number, timeout_ms: number): void {
    this.timeouts.set(sessionId, timeout_ms);
  }

  close(sessionId: number): void {
    this.timeouts.delete(sessionId);
    this.lastHeard.delete(sessionId);
  }

  has(sessionId: number): boolean {
    return this.timeouts.has(sessionId);
  }

  timeoutOf(sessionId: number): number | undefined {
    return this.timeouts.get(sessionId);
  }

  /** [sessionId, timeout_ms] of every open session. */
  entries(): IterableIterator<[number, number]> {
    return this.timeouts.entries();
  }

  get count(): number {
    return this.timeouts.size;
  }

  addEphemeral(owner: number, path: string): void {
    let paths = this.ephemerals.get(owner);
    if (paths === undefined) {
      paths = new Set();
      this.ephemerals.set(owner, paths);
    }
    paths.add(path);
  }

  removeEphemeral(owner: number, path: string): void {
    const paths = this.ephemerals.get(owner);
    if (paths === undefined) return;
    paths.delete(path);
    if (paths.size === 0) this.ephemerals.delete(owner);
  }

  ephemeralsOf(sessionId: number): string[] {
    return [...(this.ephemerals.get(sessionId) ?? [])];
  }

  /** Sessions that own ephemerals here (some may be owned by another group). */
  ephemeralOwners(): number[] {
    return [...this.ephemerals.keys()];
  }

  /** Records a heartbeat. Unknown sessions are ignored (the caller answers SESSION_EXPIRED). */
  touch(sessionId: number, now_ms: number): boolean {
    if (!this.timeouts.has(sessionId)) return false;
    const previous = this.lastHeard.get(sessionId);
    if (previous === undefined || previous < now_ms) this.lastHeard.set(sessionId, now_ms);
    return true;
  }

  /**
   * A new leader gives every open session a full timeout from now (ZooKeeper does the same):
   * heartbeats sent to the old leader were never replicated.
   */
  restartLiveness(now_ms: number): void {
    this.lastHeard.clear();
    for (const sessionId of this.timeouts.keys()) this.lastHeard.set(sessionId, now_ms);
  }

  /** Open sessions not heard from for longer than their timeout, in ascending id order. */
  expired(now_ms: number): number[] {
    const expired: number[] = [];
    for (const [sessionId, timeout_ms] of this.timeouts) {
      const heard_ms = this.lastHeard.get(sessionId);
      // A session restored from a snapshot or the log and not yet seen by this leader counts
      // from its first touch or restartLiveness, never as expired on the spot.
      if (heard_ms === undefined) continue;
      if (now_ms - heard_ms > timeout_ms) expired.push(sessionId);
    }
    return expired.sort((a, b) => a - b);
  }
}
