/** The ring's public surface: import from here. */
export { type GroupState, GROUP_STATES, validateGroupId } from './group.js';
export { RingHasher } from './hasher.js';
export { HASH_SPACE_SIZE, MAX_HASH, hashToHex, rangeContains, rangeWidth } from './hash-space.js';
export { MAX_PATH_BYTES, ROOT_PATH, joinPath, parentPath, placementKey, validatePath } from './path.js';
export { DEFAULT_VNODES_PER_GROUP, Ring, type RingGroup } from './ring.js';
export { type RingDocument } from './ring-document.js';
export { type RingMove, diffRings } from './diff.js';
export { type TokenEntry } from './allocation.js';
