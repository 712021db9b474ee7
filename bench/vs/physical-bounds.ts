/**
 * The physical bounds of this machine that a replicated write cannot beat: one NATS
 * request/reply round trip (every hop of a shardkv write: router -> leader, leader -> follower
 * proposal and ack) and one durable 4 KiB log append (write + datasync, as zab/storage/txn-log.ts
 * flushes a segment). ZooKeeper and etcd pay the same fsync; they use TCP instead of NATS.
 */
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger } from '../../logging/logger.js';
import { connectNats } from '../../net/nats.js';
import { startNatsServer } from '../../test/support/nats-server.js';
import { runLoad, type LoadResult } from './load.js';

export interface PhysicalBound {
  what: string;
  result: LoadResult;
}

const logger = createLogger({ role: 'bench' }, { level: process.env.LOG_LEVEL ?? 'warn' });

export async function measureNatsRoundTrip(in_flight: number, duration_ms: number): Promise<PhysicalBound> {
  const server = await startNatsServer();
  try {
    const requester = await connectNats({ servers: server.url, logger, name: 'bench-requester' });
    const responder = await connectNats({ servers: server.url, logger, name: 'bench-responder' });
    try {
      const payload = { op: 'set', path: '/bench/000001/v', data: new Uint8Array(256) };
      responder.serve('bench.vs.echo', () => ({ ok: true }));
      await responder.flush();
      const once = async (): Promise<void> => {
        await requester.request('bench.vs.echo', payload, { timeout_ms: 5_000 });
      };
      await runLoad(once, in_flight, Math.min(500, duration_ms)); // warm-up
      return { what: `NATS request/reply round trip, 256-byte payload, ${in_flight} in flight`, result: await runLoad(once, in_flight, duration_ms) };
    } finally {
      await Promise.all([requester.close(), responder.close()]);
    }
  } finally {
    await server.stop();
  }
}

/** Appends 4 KiB and datasyncs, one after another (one in flight: a disk has one fsync at a time per file). */
export async function measureFsyncAppend(dir: string, duration_ms: number): Promise<PhysicalBound> {
  const handle = await open(join(dir, 'fsync-probe.log'), 'a');
  try {
    const block = Buffer.alloc(4096, 0x5a);
    const append = async (): Promise<void> => {
      await handle.write(block);
      await handle.datasync();
    };
    await runLoad(append, 1, Math.min(500, duration_ms));
    return { what: 'append 4 KiB + datasync to a file in the temp dir, 1 at a time', result: await runLoad(append, 1, duration_ms) };
  } finally {
    await handle.close();
  }
}
