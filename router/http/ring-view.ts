/** The ring as GET /v1/ring shows it, from the ring's immutable value. */
import type { Ring } from '../../ring/ring.js';
import type { RingView } from './backend.js';

export function ringView(ring: Ring): RingView {
  return {
    version: ring.version,
    vnodesPerGroup: ring.vnodesPerGroup,
    groups: ring.groups().map(({ id, state, tokenCount, share }) => ({ id, state, tokenCount, share })),
    tokens: ring.entries().map(({ token, owner }) => ({ token: token.toString(16).padStart(16, '0'), group: owner })),
  };
}
