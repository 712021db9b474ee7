/** Shard group ids and the states a group has on the ring. */
import { ShardkvError } from '../errors/codes.js';

/**
 * A group's part in rebalancing: `joining` while ranges are copied to it, `leaving` while its
 * ranges are copied away, `active` otherwise. Lookup does not depend on the state.
 */
export type GroupState = 'active' | 'joining' | 'leaving';

export const GROUP_STATES: readonly GroupState[] = ['active', 'joining', 'leaving'];

// Lower case only: ids appear in NATS subjects, znode paths and compose service names.
const GROUP_ID = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Throws BAD_ARGUMENTS unless `id` is 1-63 characters of a-z, 0-9, '_' and '-', starting with a letter or digit. */
export function validateGroupId(id: string): void {
  if (typeof id !== 'string' || !GROUP_ID.test(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 80)) : typeof id;
    throw new ShardkvError(
      'BAD_ARGUMENTS',
      `invalid group id ${shown}: use 1-63 characters of a-z, 0-9, "_" and "-", starting with a letter or digit`,
      { groupId: id },
    );
  }
}

export function isGroupState(value: unknown): value is GroupState {
  return typeof value === 'string' && (GROUP_STATES as readonly string[]).includes(value);
}
