/**
 * Leader election following Apache Curator's LeaderLatch.
 *
 * Same: start() creates a protected EPHEMERAL_SEQUENTIAL `latch-` node (its data the participant
 * id) in the latch directory; the lowest node leads; every other participant watches only its
 * predecessor; listeners get isLeader()/notLeader() on each change; await() waits for leadership;
 * getLeader()/getParticipants() read the directory; close() deletes the node and gives up
 * leadership (notLeader if it led). A node deleted while the session lives is recreated (Curator's
 * reset). When the session is lost (closed, expired, or the router unreachable for the session
 * timeout) the latch says notLeader, and the next participant leads once the cluster has removed
 * the node.
 *
 * Differs: a lost session ends the latch (state `lost`): a shardkv Session cannot be revived, so
 * start a new latch on a new session (Curator resets on reconnect). The leader also keeps a data
 * watch on its own node, so it hears at once if the node is removed.
 *
 *   const latch = new LeaderLatch(session, '/election/scheduler', 'worker-3');
 *   latch.addListener({ isLeader: () => run(), notLeader: () => stop() });
 *   await latch.start();
 */
import { ShardkvClientError } from '../client-error.js';
import type { Session } from '../session.js';
import { childPath, createProtectedSequential, deleteIfExists, isCode, nameOf, sortedParticipants } from './sequential-nodes.js';
import { SessionWatches } from './session-watches.js';

const PREFIX = 'latch-';
/** Pause after a failed pass (e.g. the router briefly unreachable) before the next. */
const RETRY_MS = 100;

export interface LeaderLatchListener {
  isLeader(): void;
  notLeader(): void;
}

export type LeaderLatchState = 'latent' | 'started' | 'closed' | 'lost';

export interface Participant {
  id: string;
  /** The participant's node. */
  path: string;
  isLeader: boolean;
}

export class LeaderLatch {
  private stateValue: LeaderLatchState = 'latent';
  private leader = false;
  private ourPath: string | undefined;
  private readonly listeners = new Set<LeaderLatchListener>();
  private readonly stopping = new AbortController();
  private loop: Promise<void> = Promise.resolve();

  constructor(
    readonly session: Session,
    /** The latch directory: every participant's node is a child of it. */
    readonly path: string,
    readonly id = '',
  ) {}

  get state(): LeaderLatchState {
    return this.stateValue;
  }

  get hasLeadership(): boolean {
    return this.leader;
  }

  /** Adds a listener; the returned function removes it. */
  addListener(listener: LeaderLatchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    if (this.stateValue !== 'latent') throw new ShardkvClientError('BAD_ARGUMENTS', 0, `the latch ${this.path} was already started`);
    this.stateValue = 'started';
    try {
      const watches = await SessionWatches.for(this.session);
      this.ourPath = await createProtectedSequential(this.session, this.path, PREFIX, 'ephemeral_sequential', this.id);
      this.loop = this.run(watches);
    } catch (err) {
      this.stateValue = 'latent';
      throw err;
    }
  }

  /** Resolves true once this participant leads, false on timeout or if the latch ends first. */
  async await(timeout_ms?: number): Promise<boolean> {
    if (this.leader) return true;
    if (this.stateValue === 'closed' || this.stateValue === 'lost') return false;
    return new Promise<boolean>((resolve) => {
      const finish = (result: boolean): void => {
        clearTimeout(timer);
        remove();
        this.stopping.signal.removeEventListener('abort', onStop);
        resolve(result);
      };
      const onStop = (): void => finish(false);
      const remove = this.addListener({ isLeader: () => finish(true), notLeader: () => { if (this.stateValue !== 'started') finish(false); } });
      const timer = timeout_ms === undefined ? undefined : setTimeout(() => finish(false), timeout_ms);
      this.stopping.signal.addEventListener('abort', onStop, { once: true });
    });
  }

  /** Leaves the election: deletes the node; notLeader if this participant led. */
  async close(): Promise<void> {
    if (this.stateValue !== 'started') {
      this.stateValue = this.stateValue === 'lost' ? 'lost' : 'closed';
      return;
    }
    this.stateValue = 'closed';
    this.stopping.abort();
    await this.loop;
    if (this.ourPath !== undefined) await deleteIfExists(this.session, this.ourPath);
    this.setLeader(false);
  }

  /** Every participant in order, the first leading. */
  async getParticipants(): Promise<Participant[]> {
    const sorted = sortedParticipants((await this.session.children(this.path)).children, [PREFIX]);
    const participants: Participant[] = [];
    for (const name of sorted) {
      const path = childPath(this.path, name);
      try {
        const node = await this.session.client.get(path);
        participants.push({ id: node.text ?? '', path, isLeader: participants.length === 0 });
      } catch (err) {
        if (!isCode(err, 'NO_NODE')) throw err;
      }
    }
    return participants;
  }

  /** The leading participant, or null when there is none. */
  async getLeader(): Promise<Participant | null> {
    return (await this.getParticipants())[0] ?? null;
  }

  private setLeader(leader: boolean): void {
    if (this.leader === leader) return;
    this.leader = leader;
    for (const listener of [...this.listeners]) {
      try {
        if (leader) listener.isLeader();
        else listener.notLeader();
      } catch {
        // A listener's failure is its own; the others still hear.
      }
    }
  }

  /** One pass per wake-up, as long as the latch is started and the session usable. */
  private async run(watches: SessionWatches): Promise<void> {
    while (this.stateValue === 'started') {
      if (watches.lost) break;
      const reason = await this.checkLeadership(watches).catch(async () => {
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        return 'retry' as const;
      });
      if (reason === 'session-lost') break;
    }
    if (this.stateValue === 'started') {
      this.stateValue = 'lost';
      this.setLeader(false);
      this.stopping.abort();
    }
  }

  private async checkLeadership(watches: SessionWatches): Promise<string> {
    const sorted = sortedParticipants((await this.session.children(this.path)).children, [PREFIX]);
    const ourIndex = sorted.indexOf(nameOf(this.ourPath!));
    if (ourIndex < 0) {
      // Our node is gone: with the session (lost below) or deleted by someone (recreate it).
      this.setLeader(false);
      if (watches.lost || this.stateValue !== 'started') return 'session-lost';
      this.ourPath = await createProtectedSequential(this.session, this.path, PREFIX, 'ephemeral_sequential', this.id);
      return 'recreated';
    }
    this.setLeader(ourIndex === 0);
    const watched = ourIndex === 0 ? this.ourPath! : childPath(this.path, sorted[ourIndex - 1]!);
    const wakeup = watches.arm([watched], this.stopping.signal);
    try {
      await this.session.get(watched, { watch: true });
    } catch (err) {
      wakeup.cancel();
      if (isCode(err, 'NO_NODE')) return 'changed';
      throw err;
    }
    return (await wakeup.wait()).kind;
  }
}
