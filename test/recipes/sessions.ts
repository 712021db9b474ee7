/** Sessions for the recipe tests, each on its own client (as separate processes would be). */
import type { Test } from 'tap';
import { ShardkvClient, type Session } from '../../client/index.js';
import { startCuttableProxy, type CuttableProxy } from './cuttable-proxy.js';

export async function openSession(t: Test, url: string, timeout_ms = 10_000): Promise<Session> {
  const session = await new ShardkvClient({ url, timeout_ms: 10_000 }).session({ timeout_ms });
  // close() stops the keepalives even when the router cannot be reached any more.
  t.teardown(() => session.close().catch(() => undefined));
  return session;
}

export async function openSessions(t: Test, url: string, count: number, timeout_ms = 10_000): Promise<Session[]> {
  return Promise.all(Array.from({ length: count }, () => openSession(t, url, timeout_ms)));
}

/** A 1 s session behind its own proxy: `proxy.cut()` makes it expire on the cluster. */
export async function openCuttableSession(t: Test, url: string): Promise<{ session: Session; proxy: CuttableProxy }> {
  const proxy = await startCuttableProxy(t, url);
  return { session: await openSession(t, proxy.url, 1_000), proxy };
}

/** Resolves with the promise's value, or fails after `timeout_ms`. */
export async function within<T>(what: string, promise: Promise<T>, timeout_ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeout_ms} ms waiting for ${what}`)), timeout_ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
