/** The router HTTP app over the in-memory backend, listening on a real loopback socket. */
import type { AddressInfo } from 'node:net';
import type { Test } from 'tap';
import { ShardkvClient } from '../../client/index.js';
import { startHarness, type Harness } from '../router-http/harness.js';

export interface LiveRouter extends Harness {
  url: string;
  client: ShardkvClient;
}

export async function startLiveRouter(t: Test): Promise<LiveRouter> {
  const harness = await startHarness(t);
  await harness.app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(harness.app.server.address() as AddressInfo).port}`;
  return { ...harness, url, client: new ShardkvClient({ url, timeout_ms: 5000 }) };
}

/** The next value of an async iterator, or a failure after `timeout_ms`. */
export async function nextWithin<T>(iterator: AsyncIterator<T>, timeout_ms: number, what: string): Promise<IteratorResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeout_ms} ms waiting for ${what}`)), timeout_ms);
  });
  try {
    return await Promise.race([iterator.next(), deadline]);
  } finally {
    clearTimeout(timer);
  }
}
