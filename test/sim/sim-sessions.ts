/**
 * Sessions and ephemeral nodes in the rebalance simulation (option `sessions`).
 *
 * A few clients each open a session whose placement hash falls in the moving range or outside
 * it, create ephemerals owned by it (under directories in and out of the range), and ping it;
 * every request goes the router's way (route by the client's cached ring, follow MOVED with a
 * refresh, retry leaderless answers). Some clients stop at a seeded tick: their sessions must
 * expire exactly once, on the group owning them then, and their ephemerals vanish everywhere.
 * The others ping to the end: their sessions and ephemerals must survive the moves.
 *
 * Modelled on ShardReplica and TreeReplica, with the tick clock for Date.now():
 * - keepalive / createSession / ephemeral create: ownership at the leader's ring (re-read when
 *   the request names a newer one), the fence check, the fenced MOVED hold; an ephemeral's
 *   create asks the session's owner whether it is open (SessionLiveness, sessionsAlive on the
 *   bus, one ring refresh on MOVED);
 * - expiry: each leader calls the real ZnodeTree.expiredSessions every tick (the real
 *   SessionAuthority rule over the replica's own, possibly lagging, ring view; the touch on a
 *   ring that hands the group a session is in SimShardGroup.learnRing) and proposes closeSession
 *   through its log, once at a time (TreeReplica.closeSession);
 * - the owner's leader, applying a closeSession, publishes a notice to every group (a bus
 *   message, which may be lost); a leader holding ephemerals of that session closes them; every
 *   reconcile period a leader asks the owners of sessions its ephemerals belong to and not open
 *   here whether they are still open (ShardReplica.reconcileEphemerals).
 *
 * Checks: an expiry commits only on the group that owns the session at the ring then (at once);
 * at the end, a session expired at most once; an expiry came at least a timeout (less an
 * allowance for a deposed leader's answer and bus delay) after the last acknowledged ping; no
 * client was answered SESSION_EXPIRED before its session's expiry committed; a stopped (or
 * expired) session is closed on every replica and none holds its ephemerals; a session still
 * pinging is open exactly on its owner at the final ring, with its acknowledged ephemerals on
 * their owners only. A pinging client whose pings all went unanswered for a timeout (faults)
 * may lose its session: that is counted (pingerExpiries), not failed.
 */
import { ShardkvError } from '../../errors/codes.js';
import type { Prng } from '../../zab/prng.js';
import { formatZxid } from '../../zab/zxid.js';
import { rangesContain } from '../../znode/range-transfer.js';
import type { TxnResult } from '../../znode/types.js';
import { simPlacement, type GroupName, type SimRing } from './sim-placement.js';
import { MS_PER_TICK, type GroupNode, type SimShardGroup } from './sim-shard-group.js';

/**
 * How a leader decides that a session is not open before answering SESSION_EXPIRED (keepalive,
 * an ephemeral's create, sessionsAlive). `after-barrier`: a read barrier first, then its tree
 * again, as ShardReplica does; `local`: from its tree as it is, ShardReplica's old answer (a
 * deposed leader that has not noticed yet answered from a stale tree; seed 136 found it).
 */
export type ExpiredAnswers = 'local' | 'after-barrier';

/** What the sessions model needs from the simulation around it. */
export interface SessionWorld {
  readonly now: number;
  readonly ring: SimRing;
  readonly groups: Record<GroupName, SimShardGroup>;
  leaderOf(group: string): GroupNode | undefined;
  request<T>(node: GroupNode, serve: (node: GroupNode) => Promise<T>, timeout_ticks: number): Promise<T>;
  sleep(ticks: number): Promise<void>;
  /** RangeOps.holdMoved in ticks. */
  holdMoved(node: GroupNode, err: unknown): Promise<never>;
  event(text: string): void;
  fail(message: string): void;
}

export interface SessionStats {
  sessions: number;
  stopping: number;
  sessionTimeout_ticks: number;
  pingsAcked: number;
  expiries: number;
  /** Sessions of clients still pinging that expired after a gap of unanswered pings (faults). */
  pingerExpiries: number;
  notices: number;
  reconcileCloses: number;
}

interface Ephemeral {
  path: string;
  state: 'acked' | 'unknown' | 'refused';
}

interface ClientSession {
  client: number;
  sessionId: number;
  inMovingRange: boolean;
  startTick: number;
  /** Undefined: pings until the end. */
  stopTick: number | undefined;
  /** The router's cached ring version. */
  ringVersion: number;
  created: boolean;
  busy: boolean;
  ephemeralDirs: string[];
  ephemerals: Ephemeral[];
  /** Ticks at which a keepalive (or the create) was acknowledged. */
  acks: number[];
  /** Tick of the first SESSION_EXPIRED answer. */
  expiredAnswerTick: number | undefined;
}

/** A leader's decision that a session expired, and whether its closeSession committed. */
interface Expiry {
  sessionId: number;
  group: GroupName;
  node: number;
  decidedTick: number;
  zxid: number | undefined;
  committedTick: number | undefined;
}

const ATTEMPT_TIMEOUT_TICKS = 40;
const REQUEST_DEADLINE_TICKS = 200;
const OWNER_ASK_TIMEOUT_TICKS = 40;
const PING_ATTEMPT_TIMEOUT_TICKS = 20;
const ID_STEP = 7919;

function sessionPlacementKey(sessionId: number): string {
  return `session:${sessionId}`;
}

function placementKeyOf(path: string): string {
  return path.slice(0, path.lastIndexOf('/'));
}

function sessionExpired(sessionId: number): ShardkvError {
  return new ShardkvError('SESSION_EXPIRED', `session ${sessionId} is unknown or has expired`, { sessionId });
}

export class SimSessions {
  readonly stats: SessionStats;
  private readonly sessions: ClientSession[] = [];
  private readonly expiries: Expiry[] = [];
  private readonly timeout_ticks: number;
  private readonly ping_ticks: number;
  private readonly reconcile_ticks: number;
  private readonly reconciling = new Set<GroupNode>();
  private readonly allowance_ticks: number;

  /** Draws everything from `prng` (after the simulation's own draws). */
  constructor(
    private readonly world: SessionWorld,
    private readonly prng: Prng,
    dirs: string[],
    movingDirs: string[],
    private readonly bus: { routerWatchProbability: number; dropProbability: number; maxDelayTicks: number; leaderTimeoutTicks: number },
    faultTicks: number,
    private readonly expiredAnswers: ExpiredAnswers = 'after-barrier',
  ) {
    const count = prng.intBetween(2, 4);
    this.timeout_ticks = prng.pick([150, 250, 400]);
    this.ping_ticks = prng.pick([5, 10, 20]);
    this.reconcile_ticks = prng.pick([20, 60]);
    // A ping answered by a deposed leader that has not noticed yet, or a reply still on the bus,
    // is not heard by the leader that decides the expiry.
    this.allowance_ticks = bus.leaderTimeoutTicks + bus.maxDelayTicks + 2;
    let nextId = prng.intBetween(1, 1_000_000);
    for (let client = 0; client < count; client++) {
      const inMovingRange = prng.chance(0.6);
      // Ids a prime apart: FNV-1a hashes ids that differ only in their last digit close together.
      let sessionId = nextId;
      for (let i = 0; i < 2_000; i++, sessionId += ID_STEP) {
        if (rangesContain([world.ring.moving], simPlacement.ofSession(sessionId)) === inMovingRange) break;
      }
      nextId = sessionId + ID_STEP;
      const outside = dirs.filter((dir) => !movingDirs.includes(dir));
      const ephemeralDirs = [prng.pick(movingDirs), ...(outside.length > 0 && prng.chance(0.7) ? [prng.pick(outside)] : [])];
      this.sessions.push({
        client, sessionId, inMovingRange: rangesContain([world.ring.moving], simPlacement.ofSession(sessionId)),
        startTick: prng.intBetween(1, 60),
        stopTick: prng.chance(0.5) ? prng.intBetween(80, faultTicks - 20) : undefined,
        ringVersion: world.ring.version, created: false, busy: false, ephemeralDirs, ephemerals: [], acks: [], expiredAnswerTick: undefined,
      });
    }
    this.stats = {
      sessions: count, stopping: this.sessions.filter((s) => s.stopTick !== undefined).length, sessionTimeout_ticks: this.timeout_ticks,
      pingsAcked: 0, expiries: 0, pingerExpiries: 0, notices: 0, reconcileCloses: 0,
    };
  }

  describe(): string {
    return `sessions ${this.sessions.map((s) => `${s.sessionId}${s.inMovingRange ? '(moving)' : ''}${s.stopTick === undefined ? '' : ` stops t=${s.stopTick}`}`).join(', ')}; ` +
      `timeout ${this.timeout_ticks} ticks, ping every ${this.ping_ticks}, reconcile every ${this.reconcile_ticks}`;
  }

  summary(): string {
    const s = this.stats;
    return `${s.sessions} sessions (${s.stopping} stop), ${s.pingsAcked} pings acked, ${s.expiries} expiries (${s.pingerExpiries} of pingers after unanswered pings), ` +
      `${s.notices} close notices, ${s.reconcileCloses} reconcile closes`;
  }

  // ---- each tick ----

  tick(): void {
    const now = this.world.now;
    for (const session of this.sessions) {
      if (session.ringVersion < this.world.ring.version && this.prng.chance(this.bus.routerWatchProbability)) session.ringVersion = this.world.ring.version;
      if (now === session.startTick) void this.live(session);
    }
    for (const group of Object.values(this.world.groups)) {
      for (const node of group.leaders()) {
        for (const sessionId of node.tree.expiredSessions(now * MS_PER_TICK)) this.closeSession(node, sessionId, 'expired');
        if (now % this.reconcile_ticks === 0 && !this.reconciling.has(node)) void this.reconcile(node);
      }
    }
  }

  /** Whether every stopped client is done and its session and ephemerals are gone everywhere. */
  settled(): boolean {
    return this.sessions.every((session) => {
      if (!this.isGone(session)) return true;
      return !session.busy && this.everyReplica().every((node) => !node.tree.hasSession(session.sessionId) &&
        node.tree.sessionEphemerals(session.sessionId).length === 0);
    });
  }

  /** A client that stopped, or whose session expired. */
  private isGone(session: ClientSession): boolean {
    return session.stopTick !== undefined || this.committedExpiries(session.sessionId).length > 0;
  }

  private everyReplica(): GroupNode[] {
    return Object.values(this.world.groups).flatMap((group) => group.nodes);
  }

  private pinging(session: ClientSession): boolean {
    return (session.stopTick === undefined || this.world.now < session.stopTick) && session.expiredAnswerTick === undefined;
  }

  // ---- a client ----

  private async live(session: ClientSession): Promise<void> {
    session.busy = true;
    try {
      for (let attempt = 0; attempt < 20 && !session.created && this.pinging(session); attempt++) {
        try {
          await this.routed(session, sessionPlacementKey(session.sessionId), (node, version) => this.serveCreateSession(node, version, session.sessionId));
          session.created = true;
          session.acks.push(this.world.now);
        } catch (err) {
          // Created by an earlier attempt whose answer was lost (this answer touched nothing).
          if (err instanceof ShardkvError && err.code === 'BAD_ARGUMENTS' && /already exists/.test(err.message)) session.created = true;
        }
      }
      if (!session.created) return;
      this.world.event(`session ${session.sessionId} (client ${session.client}) open`);
      for (const dir of session.ephemeralDirs) {
        if (!this.pinging(session)) break;
        await this.createEphemeral(session, `${dir}/s${session.sessionId}`);
      }
      for (let round = 0; round < 100_000 && this.pinging(session); round++) {
        await this.world.sleep(this.ping_ticks);
        if (!this.pinging(session)) break;
        await this.ping(session);
      }
    } finally {
      session.busy = false;
    }
  }

  private async createEphemeral(session: ClientSession, path: string): Promise<void> {
    const ephemeral: Ephemeral = { path, state: 'unknown' };
    session.ephemerals.push(ephemeral);
    for (let attempt = 0; attempt < 5 && this.pinging(session); attempt++) {
      try {
        await this.routed(session, placementKeyOf(path), (node, version) => this.serveCreateEphemeral(node, version, path, session.sessionId));
        ephemeral.state = 'acked';
        return;
      } catch (err) {
        if (!(err instanceof ShardkvError)) throw err;
        // An earlier attempt whose answer was lost created it: the path is this session's alone.
        if (err.code === 'NODE_EXISTS') {
          ephemeral.state = 'acked';
          return;
        }
        if (err.code === 'SESSION_EXPIRED') {
          this.expiredAnswer(session, `creating ${path}`);
          return;
        }
        if (err.code === 'MOVED' && ephemeral.state === 'unknown' && attempt === 0) ephemeral.state = 'refused';
      }
    }
  }

  private async ping(session: ClientSession): Promise<void> {
    try {
      // Like a client's ping, each attempt is short and the whole ping gives up well within the timeout.
      await this.routed(session, sessionPlacementKey(session.sessionId), (node, version) => this.serveKeepalive(node, version, session.sessionId),
        PING_ATTEMPT_TIMEOUT_TICKS, Math.floor(this.timeout_ticks / 3));
      session.acks.push(this.world.now);
      this.stats.pingsAcked += 1;
    } catch (err) {
      if (err instanceof ShardkvError && err.code === 'SESSION_EXPIRED') this.expiredAnswer(session, 'keepalive');
    }
  }

  private expiredAnswer(session: ClientSession, what: string): void {
    if (session.expiredAnswerTick !== undefined) return;
    session.expiredAnswerTick = this.world.now;
    this.world.event(`session ${session.sessionId} (client ${session.client}): ${what} answered SESSION_EXPIRED`);
  }

  /** ShardForwarder.send for one request: route by the cached ring, follow MOVED, retry leaderless answers. */
  private async routed<T>(
    session: ClientSession,
    placementKey: string,
    serve: (node: GroupNode, ringVersion: number) => Promise<T>,
    attemptTimeout_ticks = ATTEMPT_TIMEOUT_TICKS,
    deadline_ticks = REQUEST_DEADLINE_TICKS,
  ): Promise<T> {
    const deadline = this.world.now + deadline_ticks;
    let backoff_ticks = 2;
    let lastError: unknown = new ShardkvError('TIMEOUT', 'no attempt');
    for (let attempt = 0; attempt < 1000 && this.world.now < deadline; attempt++) {
      const version = session.ringVersion;
      const group = this.world.ring.ownerOfHash(simPlacement.ofKey(placementKey), version);
      try {
        const node = this.world.leaderOf(group);
        if (node === undefined) throw new ShardkvError('NO_LEADER', `no leader of ${group}`);
        return await this.world.request(node, (target) => serve(target, version), Math.max(1, Math.min(attemptTimeout_ticks, deadline - this.world.now)));
      } catch (err) {
        lastError = err;
        if (!(err instanceof ShardkvError)) throw err;
        if (err.code === 'MOVED') {
          const theirs = Number(err.details?.ringVersion ?? 0);
          if (theirs >= version) {
            session.ringVersion = Math.max(session.ringVersion, this.world.ring.version);
            continue;
          }
        } else if (!['NO_LEADER', 'NOT_LEADER', 'TIMEOUT', 'CONNECTION_LOSS', 'UNAVAILABLE'].includes(err.code)) {
          throw err;
        }
        await this.world.sleep(backoff_ticks);
        backoff_ticks = Math.min(backoff_ticks * 2, 25);
      }
    }
    throw lastError;
  }

  // ---- ShardReplica.serveLeader for the session requests ----

  /** checkOwnership: MOVED unless this group owns the placement key at the leader's ring; then the fence check. */
  private checkOwnership(node: GroupNode, ringVersion: number, placementKey: string): void {
    if (!node.leading) throw new ShardkvError('NOT_LEADER', `this replica of ${node.group.name} is not the leader`);
    const ring = node.group.ringAtLeast(node, ringVersion);
    const owner = ring.ownerOf(placementKey);
    if (owner !== node.group.name) {
      throw new ShardkvError('MOVED', `group ${node.group.name} does not own this key at ring version ${ring.version}`, { ringVersion: ring.version, owner });
    }
    node.rangeOps.checkNotFenced([placementKey]);
  }

  private async serveKeepalive(node: GroupNode, ringVersion: number, sessionId: number): Promise<void> {
    try {
      this.checkOwnership(node, ringVersion, sessionPlacementKey(sessionId));
      if (!node.tree.touchSession(sessionId, this.world.now * MS_PER_TICK)) {
        if (!(await this.confirmedClosed(node, sessionId))) {
          node.tree.touchSession(sessionId, this.world.now * MS_PER_TICK);
          return;
        }
        throw this.expiredHere(node, sessionId, 'keepalive');
      }
    } catch (err) {
      return this.world.holdMoved(node, err);
    }
  }

  private async serveCreateSession(node: GroupNode, ringVersion: number, sessionId: number): Promise<void> {
    try {
      this.checkOwnership(node, ringVersion, sessionPlacementKey(sessionId));
      const timeout_ms = this.timeout_ticks * MS_PER_TICK;
      await node.group.write(node, (preparer, context) => preparer.prepare({ op: 'createSession', sessionId, timeout_ms }, context), sessionId);
      node.tree.touchSession(sessionId, this.world.now * MS_PER_TICK);
    } catch (err) {
      return this.world.holdMoved(node, err);
    }
  }

  private async serveCreateEphemeral(node: GroupNode, ringVersion: number, path: string, sessionId: number): Promise<void> {
    try {
      this.checkOwnership(node, ringVersion, placementKeyOf(path));
      if (!(await this.isOpen(node, sessionId))) throw this.expiredHere(node, sessionId, `create ${path}`);
      await node.group.write(node, (preparer, context) => preparer.prepare({ op: 'create', path, data: new Uint8Array(0), mode: 'ephemeral' }, context), sessionId);
    } catch (err) {
      return this.world.holdMoved(node, err);
    }
  }

  /** Whether the session is not open here (after a read barrier if `after-barrier`). */
  private async confirmedClosed(node: GroupNode, sessionId: number): Promise<boolean> {
    if (node.tree.hasSession(sessionId)) return false;
    if (this.expiredAnswers === 'local') return true;
    await node.group.readBarrier(node);
    return !node.tree.hasSession(sessionId);
  }

  private expiredHere(node: GroupNode, sessionId: number, what: string): ShardkvError {
    const status = node.engine?.status();
    this.world.event(`${node.group.name}${node.id} (epoch ${status?.epoch ?? '-'}, applied ${status === undefined ? '-' : formatZxid(status.appliedZxid)}) ` +
      `answers ${what} of session ${sessionId} SESSION_EXPIRED`);
    return sessionExpired(sessionId);
  }

  // ---- SessionLiveness ----

  private async isOpen(node: GroupNode, sessionId: number): Promise<boolean> {
    return (await this.closedAmong(node, [sessionId])).length === 0;
  }

  /**
   * SessionLiveness.ownerOf: the deciding group at this replica's ring, read after a refresh
   * where a fence of ours still refuses the session (our ring lags the move); undefined while the
   * session's range is moving.
   */
  private ownerOf(node: GroupNode, sessionId: number): GroupName | undefined {
    const fencedUntil = node.tree.fenceCovering(simPlacement.ofSession(sessionId))?.toRingVersion;
    const ring = fencedUntil === undefined ? node.group.ringView(node) : node.group.ringAtLeast(node, fencedUntil);
    if (fencedUntil !== undefined && node.ringVersion < fencedUntil) return undefined;
    return ring.ownerOf(sessionPlacementKey(sessionId));
  }

  /** The sessions among `sessionIds` that their owners report closed. */
  private async closedAmong(node: GroupNode, sessionIds: number[]): Promise<number[]> {
    const closed: number[] = [];
    for (const sessionId of sessionIds) {
      const owner = this.ownerOf(node, sessionId);
      if (owner === undefined) continue;
      const open = owner === node.group.name ? !(await this.confirmedClosed(node, sessionId)) : await this.askOwner(node, owner, sessionId);
      if (!open) closed.push(sessionId);
    }
    return closed;
  }

  private async askOwner(node: GroupNode, owner: GroupName, sessionId: number): Promise<boolean> {
    const ask = (): Promise<boolean> => {
      const leader = this.world.leaderOf(owner);
      if (leader === undefined) return Promise.reject(new ShardkvError('NO_LEADER', `no leader of ${owner}`));
      const version = node.ringVersion;
      return this.world.request(leader, (target) => this.serveSessionsAlive(target, version, sessionId), OWNER_ASK_TIMEOUT_TICKS);
    };
    try {
      return await ask();
    } catch (err) {
      if (err instanceof ShardkvError && err.code === 'MOVED') {
        node.group.learnRing(node, this.world.ring.version);
        return ask();
      }
      throw err;
    }
  }

  private async serveSessionsAlive(node: GroupNode, ringVersion: number, sessionId: number): Promise<boolean> {
    try {
      this.checkOwnership(node, ringVersion, sessionPlacementKey(sessionId));
      return !(await this.confirmedClosed(node, sessionId));
    } catch (err) {
      return this.world.holdMoved(node, err);
    }
  }

  // ---- closing: expiry, notices, reconciliation ----

  /** TreeReplica.closeSession: proposes the close once at a time. */
  private closeSession(node: GroupNode, sessionId: number, reason: 'expired' | 'notice' | 'reconcile'): void {
    if (node.closing.has(sessionId)) return;
    node.closing.add(sessionId);
    const expiry: Expiry | undefined = reason === 'expired'
      ? { sessionId, group: node.group.name, node: node.id, decidedTick: this.world.now, zxid: undefined, committedTick: undefined }
      : undefined;
    if (expiry !== undefined) this.expiries.push(expiry);
    else this.world.event(`${node.group.name}${node.id} (ring v${node.ringVersion}) proposes closeSession ${sessionId} (${reason})`);
    const closing = node.closing;
    node.group.write(node, (preparer, context) => preparer.prepare({ op: 'closeSession', sessionId }, context), sessionId, (zxid) => {
      if (expiry !== undefined) expiry.zxid = zxid;
    }).then(
      () => {
        closing.delete(sessionId);
        if (reason === 'reconcile') this.stats.reconcileCloses += 1;
      },
      () => closing.delete(sessionId),
    );
  }

  /** SimShardGroup calls this for every applied txn. */
  onApplied(node: GroupNode, zxid: number, result: TxnResult, closedOpenSession: boolean, first: boolean): void {
    if (result.type !== 'closeSession') return;
    if (first && closedOpenSession) {
      const expiry = this.expiries.find((e) => e.group === node.group.name && e.zxid === zxid);
      if (expiry !== undefined) {
        expiry.committedTick = this.world.now;
        this.stats.expiries += 1;
        const owner = this.world.ring.ownerOfHash(simPlacement.ofSession(result.sessionId), this.world.ring.version);
        this.world.event(`session ${result.sessionId} expired on ${node.group.name}${node.id} (decided t=${expiry.decidedTick}; owner at ring v${this.world.ring.version}: ${owner})`);
        if (owner !== node.group.name) {
          this.world.fail(`session ${result.sessionId} expired on ${node.group.name}, but ${owner} owns it at ring v${this.world.ring.version}`);
        }
      }
    }
    // ShardReplica.onApplied: the owner's leader tells every group.
    if (!node.leading || this.ownerOf(node, result.sessionId) !== node.group.name) return;
    this.stats.notices += 1;
    for (const group of Object.values(this.world.groups)) {
      if (this.prng.chance(this.bus.dropProbability)) continue;
      this.world.sleep(this.prng.intBetween(0, this.bus.maxDelayTicks)).then(() => {
        for (const leader of group.leaders()) {
          if (leader.tree.sessionEphemerals(result.sessionId).length === 0) continue;
          // ShardReplica.onSessionClosedElsewhere: a notice about a session we hold open and own is not the owner's.
          if (leader.tree.hasSession(result.sessionId) && this.ownerOf(leader, result.sessionId) === group.name) continue;
          this.closeSession(leader, result.sessionId, 'notice');
        }
      }, () => undefined);
    }
  }

  /** ShardReplica.reconcileEphemerals. */
  private async reconcile(node: GroupNode): Promise<void> {
    const owners = node.tree.ephemeralOwners().filter((sessionId) => !node.tree.hasSession(sessionId));
    if (owners.length === 0) return;
    this.reconciling.add(node);
    try {
      for (const sessionId of await this.closedAmong(node, owners)) {
        if (node.leading) this.closeSession(node, sessionId, 'reconcile');
      }
    } catch {
      // An owner could not be reached: next period.
    } finally {
      this.reconciling.delete(node);
    }
  }

  // ---- the checks at the end ----

  private committedExpiries(sessionId: number): Expiry[] {
    return this.expiries.filter((e) => e.sessionId === sessionId && e.committedTick !== undefined);
  }

  check(): string | undefined {
    const ring = this.world.ring;
    for (const session of this.sessions) {
      const id = session.sessionId;
      const expiries = this.committedExpiries(id);
      if (expiries.length > 1) {
        return `session ${id} expired ${expiries.length} times: ${expiries.map((e) => `${e.group}${e.node} t=${e.decidedTick}`).join(', ')}`;
      }
      const expiry = expiries[0];
      if (session.expiredAnswerTick !== undefined && (expiry?.committedTick === undefined || expiry.committedTick > session.expiredAnswerTick)) {
        return `session ${id} was answered SESSION_EXPIRED at t=${session.expiredAnswerTick} while it was open ` +
          `(${expiry === undefined ? 'it never expired' : `it expired at t=${expiry.committedTick}`})`;
      }
      if (expiry !== undefined) {
        const heard = session.acks.filter((tick) => tick <= expiry.decidedTick).at(-1);
        if (heard !== undefined && expiry.decidedTick - heard < this.timeout_ticks - this.allowance_ticks) {
          return `session ${id} expired on ${expiry.group}${expiry.node} at t=${expiry.decidedTick}, ${expiry.decidedTick - heard} ticks after its ping ` +
            `was acknowledged at t=${heard} (timeout ${this.timeout_ticks} ticks, allowance ${this.allowance_ticks})`;
        }
        if (session.stopTick === undefined || expiry.decidedTick < session.stopTick) this.stats.pingerExpiries += 1;
      }
      const replicas = this.everyReplica();
      if (session.stopTick !== undefined || expiry !== undefined) {
        if (session.created && expiry === undefined) return `session ${id} stopped pinging at t=${session.stopTick} and never expired`;
        const holder = replicas.find((node) => node.tree.hasSession(id));
        if (holder !== undefined) return `session ${id} stopped or expired, but ${holder.group.name}${holder.id} still holds it open`;
        for (const node of replicas) {
          const left = node.tree.sessionEphemerals(id);
          if (left.length > 0) return `session ${id} stopped or expired, but ${node.group.name}${node.id} still holds its ephemerals ${left.join(', ')}`;
        }
        continue;
      }
      if (!session.created) continue;
      const owner = ring.ownerOfHash(simPlacement.ofSession(id), ring.version);
      for (const node of replicas) {
        const open = node.tree.hasSession(id);
        if (node.group.name === owner && !open) return `session ${id} kept pinging but ${node.group.name}${node.id}, its owner at ring v${ring.version}, does not hold it`;
        if (node.group.name !== owner && open) return `session ${id} is still open on ${node.group.name}${node.id}, which does not own it at ring v${ring.version}`;
      }
      for (const ephemeral of session.ephemerals.filter((e) => e.state === 'acked')) {
        const pathOwner = ring.view(ring.version).ownerOf(placementKeyOf(ephemeral.path));
        for (const node of replicas) {
          const stored = node.tree.nodeAt(ephemeral.path);
          if (node.group.name === pathOwner && (stored === undefined || stored.ephemeralOwner !== id)) {
            return `ephemeral ${ephemeral.path} of live session ${id} is missing on ${node.group.name}${node.id}, its owner at ring v${ring.version}`;
          }
          if (node.group.name !== pathOwner && stored !== undefined) return `ephemeral ${ephemeral.path} is still on ${node.group.name}${node.id}, which does not own it`;
        }
      }
    }
    return undefined;
  }
}
