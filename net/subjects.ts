import { ShardkvError } from '../errors/codes.js';

/**
 * Every NATS subject shardkv uses, under one cluster prefix (so several clusters can
 * share a NATS server). Built only here:
 *
 *   <prefix>.peer.<ensemble>.<nodeId>   a replica's inbox for peer (ZAB) messages
 *   <prefix>.g.<group>.leader           requests to a shard group's current leader
 *   <prefix>.meta.leader                requests to the meta ensemble's current leader
 *   <prefix>.meta.read                  sequential and stale reads, served by any meta replica
 *   <prefix>.status.<ensemble>.<nodeId> one replica's status (role, epoch, zxid), for tools and tests
 *   <prefix>.events.<routerId>          watch and event delivery to one router or session
 *   <prefix>.sessions.closed            a data-plane session closed or expired (groups drop its ephemerals)
 */

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Throws BAD_ARGUMENTS unless id is 1-64 characters of letters, digits, '_' or '-' (no dots, spaces or wildcards). */
export function assertSubjectId(kind: string, id: string): void {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new ShardkvError(
      'BAD_ARGUMENTS',
      `invalid ${kind} id ${JSON.stringify(id)}: use 1-64 letters, digits, '_' or '-' (no dots, spaces or wildcards)`,
      { kind, id },
    );
  }
}

/** A prefix is one or more ids joined by dots, e.g. `shardkv` or `shardkv.test-3`. */
export function assertSubjectPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || prefix.length === 0 || !prefix.split('.').every((token) => ID_PATTERN.test(token))) {
    throw new ShardkvError(
      'BAD_ARGUMENTS',
      `invalid cluster prefix ${JSON.stringify(prefix)}: dot-separated tokens of letters, digits, '_' or '-'`,
      { prefix },
    );
  }
}

export class Subjects {
  constructor(readonly prefix: string) {
    assertSubjectPrefix(prefix);
  }

  /** Inbox of one replica of an ensemble (`meta` or a group id) for peer messages. */
  peer(ensemble: string, nodeId: string): string {
    assertSubjectId('ensemble', ensemble);
    assertSubjectId('node', nodeId);
    return `${this.prefix}.peer.${ensemble}.${nodeId}`;
  }

  /** Only the group's current leader subscribes here (see LeaderSubject). */
  groupLeader(group: string): string {
    assertSubjectId('group', group);
    return `${this.prefix}.g.${group}.leader`;
  }

  metaLeader(): string {
    return `${this.prefix}.meta.leader`;
  }

  /** Every meta replica serves this in one queue group: each read goes to one of them. */
  metaRead(): string {
    return `${this.prefix}.meta.read`;
  }

  sessionsClosed(): string {
    return `${this.prefix}.sessions.closed`;
  }

  replicaStatus(ensemble: string, nodeId: string): string {
    assertSubjectId('ensemble', ensemble);
    assertSubjectId('node', nodeId);
    return `${this.prefix}.status.${ensemble}.${nodeId}`;
  }

  /** Events (watch notifications, rebalance progress) for one router. */
  events(routerId: string): string {
    assertSubjectId('router', routerId);
    return `${this.prefix}.events.${routerId}`;
  }
}
