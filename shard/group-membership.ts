/**
 * A shard replica's membership in the meta tree: /groups/<group> (persistent) and
 * /groups/<group>/<node> (ephemeral, owned by this replica's meta session, so it vanishes when
 * the replica dies). A check every few seconds re-registers after a lost meta session.
 */
import { ShardkvError } from '../errors/codes.js';
import type { Logger } from '../logging/logger.js';
import { groupPath } from '../meta/cluster-records.js';
import type { MetaClient } from '../meta/meta-client.js';

export interface GroupMembershipOptions {
  meta: MetaClient;
  group: string;
  nodeId: string;
  logger: Logger;
  sessionTimeout_ms?: number;
  check_ms?: number;
}

export class GroupMembership {
  private sessionId = 0;
  private readonly timer: NodeJS.Timeout;
  private registering: Promise<void> | undefined;

  private constructor(private readonly options: GroupMembershipOptions) {
    this.timer = setInterval(() => void this.check(), options.check_ms ?? 3_000);
  }

  /** Registers now if the meta ensemble answers; otherwise the periodic check registers later. */
  static async join(options: GroupMembershipOptions): Promise<GroupMembership> {
    const membership = new GroupMembership(options);
    try {
      await membership.register();
    } catch (err) {
      options.logger.warn({ err }, 'could not register in the meta tree yet; will retry');
    }
    return membership;
  }

  get memberPath(): string {
    return `${groupPath(this.options.group)}/${this.options.nodeId}`;
  }

  async leave(): Promise<void> {
    clearInterval(this.timer);
    if (this.sessionId !== 0) await this.options.meta.closeSession(this.sessionId).catch(() => undefined);
  }

  private async check(): Promise<void> {
    try {
      const stat = await this.options.meta.exists(this.memberPath);
      if (stat === null || stat.ephemeralOwner !== this.sessionId) await this.register();
    } catch (err) {
      this.options.logger.debug({ err }, 'membership check failed');
    }
  }

  private register(): Promise<void> {
    this.registering ??= this.doRegister().finally(() => {
      this.registering = undefined;
    });
    return this.registering;
  }

  private async doRegister(): Promise<void> {
    const { meta, group, nodeId, logger } = this.options;
    if (this.sessionId !== 0) meta.abandonSession(this.sessionId);
    const session = await meta.createSession(this.options.sessionTimeout_ms ?? 5_000);
    this.sessionId = session.sessionId;
    await ignoreCode(meta.create(groupPath(group), new Uint8Array(0), 'persistent'), 'NODE_EXISTS');
    const data = new TextEncoder().encode(JSON.stringify({ nodeId, pid: process.pid, since: new Date().toISOString() }));
    try {
      await meta.create(this.memberPath, data, 'ephemeral', { sessionId: this.sessionId });
    } catch (err) {
      if (!(err instanceof ShardkvError && err.code === 'NODE_EXISTS')) throw err;
      // Left by our previous incarnation's session, not yet expired: take it over.
      await ignoreCode(meta.delete(this.memberPath), 'NO_NODE');
      await meta.create(this.memberPath, data, 'ephemeral', { sessionId: this.sessionId });
    }
    logger.info({ path: this.memberPath, sessionId: this.sessionId }, 'registered in the meta tree');
  }
}

async function ignoreCode<T>(promise: Promise<T>, code: string): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (err instanceof ShardkvError && err.code === code) return undefined;
    throw err;
  }
}
