/**
 * The messages ZAB peers exchange. Plain objects of numbers, strings and Uint8Arrays, so any
 * codec (msgpack) carries them. Every message names its sender in `from`.
 *
 * Handshake messages carry the follower's `session`, a random number the follower draws for each
 * attempt to join a leader: a reply from an older attempt (delayed, duplicated) never matches.
 */

/** One transaction in the log: its zxid and the state machine's opaque payload. */
export interface LogRecord {
  zxid: number;
  payload: Uint8Array;
}

export type PeerState = 'LOOKING' | 'FOLLOWING' | 'LEADING';

/** A candidate's credentials in fast leader election, compared as (epoch, zxid, leader). */
export interface Vote {
  leader: number;
  /** The candidate's currentEpoch (ZooKeeper's peerEpoch). */
  epoch: number;
  /** The candidate's last logged zxid. */
  zxid: number;
}

/** Election notification. A FOLLOWING or LEADING sender reports the leader it follows or is. */
export interface VoteMessage {
  type: 'VOTE';
  from: number;
  round: number;
  state: PeerState;
  vote: Vote;
}

/** Follower -> prospective leader: join request (discovery). */
export interface FollowerInfoMessage {
  type: 'FOLLOWERINFO';
  from: number;
  session: number;
  acceptedEpoch: number;
}

/** Leader -> follower: the new epoch (ZAB's NEWEPOCH). */
export interface LeaderInfoMessage {
  type: 'LEADERINFO';
  from: number;
  session: number;
  epoch: number;
}

/** Follower -> leader: epoch accepted; the follower's history, so the leader can plan the sync. */
export interface AckEpochMessage {
  type: 'ACKEPOCH';
  from: number;
  session: number;
  /** The epoch promised: the leader counts only promises of its own epoch. */
  epoch: number;
  currentEpoch: number;
  lastZxid: number;
  /** The last zxid the follower applied: committed, so in every later leader's history. */
  appliedZxid: number;
  /** For each epoch in the follower's log after appliedZxid, the last zxid of that epoch, ascending. */
  epochLasts: number[];
}

export type SyncMode = 'DIFF' | 'TRUNC' | 'SNAP';

/** Leader -> follower: synchronisation (DIFF / TRUNC / SNAP) and the new epoch, in one message. */
export interface NewLeaderMessage {
  type: 'NEWLEADER';
  from: number;
  session: number;
  epoch: number;
  mode: SyncMode;
  /** TRUNC: drop every record after this zxid before appending `records`. */
  truncateAfter?: number;
  /** SNAP: replace the state machine and the whole log with this snapshot. */
  snapshot?: { zxid: number; data: Uint8Array };
  /** The leader's history after the follower's common point, in zxid order. */
  records: LogRecord[];
  /** The leader's commit point: the follower may apply its log through it. */
  commitZxid: number;
}

/** Leader -> followers: new transactions, in zxid order. Several proposals of one step travel together. */
export interface ProposalMessage {
  type: 'PROPOSAL';
  from: number;
  epoch: number;
  records: LogRecord[];
}

/** Follower -> leader: "my log is durable through zxid" (cumulative). After NEWLEADER it also acknowledges the sync. */
export interface AckMessage {
  type: 'ACK';
  from: number;
  session: number;
  /** The leader's epoch: a session number means nothing to a later leadership of the same peer. */
  epoch: number;
  zxid: number;
}

/** Leader -> followers: everything through zxid is committed (cumulative). */
export interface CommitMessage {
  type: 'COMMIT';
  from: number;
  epoch: number;
  zxid: number;
}

/** Leader -> followers heartbeat; carries the commit point and the current read round. */
export interface PingMessage {
  type: 'PING';
  from: number;
  epoch: number;
  commitZxid: number;
  readRound: number;
}

/** Follower -> leader heartbeat answer; `ackZxid` repeats the durable point (repairs a lost ACK). */
export interface PongMessage {
  type: 'PONG';
  from: number;
  session: number;
  epoch: number;
  readRound: number;
  ackZxid?: number;
}

/** Leader -> follower: your gap is outside my log window; join again (the sync will be a SNAP). */
export interface ResyncMessage {
  type: 'RESYNC';
  from: number;
  epoch: number;
}

export type ZabMessage =
  | VoteMessage
  | FollowerInfoMessage
  | LeaderInfoMessage
  | AckEpochMessage
  | NewLeaderMessage
  | ProposalMessage
  | AckMessage
  | CommitMessage
  | PingMessage
  | PongMessage
  | ResyncMessage;

/** A message the driver must deliver to peer `to`. */
export interface OutboundMessage {
  to: number;
  message: ZabMessage;
}
