/**
 * Which router coordinates rebalancing: ZooKeeper's leader-election recipe on the meta tree.
 * Each router holds an ephemeral-sequential node /rebalance/election/n-<seq> under its own meta
 * session; the lowest sequence leads; the others watch their predecessor (and re-check now and
 * then, against a lost event). A router that dies loses its session, so its node goes and the
 * next one leads.
 *
 * The node's sequence number (+ 1) is the coordinator's fencing token: meta's sequence counter for
 * /rebalance/election only grows, and a router leads only while its node is the lowest, so each
 * new leader's number is higher than every earlier leader's. Shard groups refuse range ops
 * carrying a token lower than one they have accepted (STALE_COORDINATOR).
 */
import { ShardkvError } from '../../errors/codes.js';
import type { Logger } from '../../logging/logger.js';
import type { MetaClient } from '../../meta/meta-client.js';
import { ELECTION_PATH } from './rebalance-plan.js';

export class CoordinatorElection {
  private sessionId: number | undefined;
  private nodeName: string | undefined;
  private unsubscribe: (() => void) | undefined;
  private watching: string | undefined;

  constructor(
    private readonly meta: MetaClient,
    private readonly routerId: string,
    private readonly logger: Logger,
    private readonly options: { sessionTimeout_ms?: number; onChange?: () => void } = {},
  ) {}

  /** Our fencing token once joined: our node's sequence number + 1 (0 means "no token" to a group). */
  get token(): number | undefined {
    return this.nodeName === undefined ? undefined : Number(this.nodeName.slice(this.nodeName.lastIndexOf('-') + 1)) + 1;
  }

  /** Whether this router leads now (joins or re-joins the election first if needed). */
  async leads(): Promise<boolean> {
    if (this.unsubscribe === undefined) {
      this.unsubscribe = this.meta.onWatchEvent((event) => {
        if (event.path === this.watching) this.options.onChange?.();
      });
    }
    const children = (await this.meta.getChildren(ELECTION_PATH)).children.sort();
    if (this.nodeName === undefined || !children.includes(this.nodeName)) {
      await this.join();
      return this.leads();
    }
    const index = children.indexOf(this.nodeName);
    if (index === 0) return true;
    const predecessor = `${ELECTION_PATH}/${children[index - 1]}`;
    if (this.watching !== predecessor) {
      this.watching = predecessor;
      if ((await this.meta.exists(predecessor, { watch: true })) === null) return this.leads();
    }
    return false;
  }

  private async join(): Promise<void> {
    if (this.sessionId === undefined) {
      this.sessionId = (await this.meta.createSession(this.options.sessionTimeout_ms ?? 6_000)).sessionId;
    }
    try {
      const { path } = await this.meta.create(`${ELECTION_PATH}/n-`, new TextEncoder().encode(this.routerId), 'ephemeral_sequential', {
        sessionId: this.sessionId,
      });
      this.nodeName = path.slice(ELECTION_PATH.length + 1);
      this.logger.info({ node: this.nodeName }, 'joined the rebalance coordinator election');
    } catch (err) {
      // Our session expired (a long pause): start over with a new one.
      if (err instanceof ShardkvError && err.code === 'SESSION_EXPIRED') this.sessionId = undefined;
      throw err;
    }
  }

  /** Leaves the election (the next router leads at once). */
  async leave(): Promise<void> {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.watching = undefined;
    if (this.sessionId !== undefined) await this.meta.closeSession(this.sessionId).catch(() => undefined);
    this.sessionId = undefined;
    this.nodeName = undefined;
  }

  /** Stops keeping the session alive without closing it (as a crash would: tests). */
  abandon(): void {
    this.unsubscribe?.();
    if (this.sessionId !== undefined) this.meta.abandonSession(this.sessionId);
  }
}
