/**
 * etcd 3.4 (Debian's `etcd-server`) as a 3-member cluster on loopback ports, each member with
 * its own data dir in a temp dir; fsync on (etcd's default: --unsafe-no-fsync is not given).
 * Driven through etcd3 (pure JS over @grpc/grpc-js).
 */
import { join } from 'node:path';
import { freePort } from '../../test/support/nats-server.js';
import { waitFor } from '../../test/support/wait.js';
import { KEY_COUNT, valueFor, type KvTarget, type ReadConsistency } from './load.js';
import { importOptional } from './optional-module.js';
import { ProcessGroup } from './process-group.js';

interface EtcdPutBuilder { value(value: Buffer): Promise<unknown> }
interface EtcdGetBuilder { serializable(on: boolean): EtcdGetBuilder; buffer(): Promise<Buffer | null> }
interface EtcdClient {
  put(key: string): EtcdPutBuilder;
  get(key: string): EtcdGetBuilder;
  close(): void;
}
interface EtcdModule { Etcd3: new (options: { hosts: string[] }) => EtcdClient }

export interface EtcdCluster {
  endpoints: string[];
  processes: ProcessGroup;
  target(): Promise<KvTarget>;
  stop(): Promise<void>;
}

export async function startEtcdCluster(dir: string, start_timeout_ms = 60_000): Promise<EtcdCluster> {
  const etcd = await importOptional<EtcdModule>('etcd3', 'the etcd side of the bench');
  const names = ['e1', 'e2', 'e3'];
  const ports = await Promise.all(names.map(async () => ({ client: await freePort(), peer: await freePort() })));
  const initialCluster = names.map((name, n) => `${name}=http://127.0.0.1:${ports[n]?.peer}`).join(',');
  const endpoints = ports.map((p) => `http://127.0.0.1:${p.client}`);
  const processes = new ProcessGroup(join(dir, 'logs'));
  try {
    for (const [n, name] of names.entries()) {
      const client = `http://127.0.0.1:${ports[n]?.client}`;
      const peer = `http://127.0.0.1:${ports[n]?.peer}`;
      processes.start(name, 'etcd', [
        '--name', name, '--data-dir', join(dir, name),
        '--listen-client-urls', client, '--advertise-client-urls', client,
        '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
        '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
        '--initial-cluster-token', `bench-${process.pid}`, '--log-level', 'warn',
      ]);
    }
    const cluster: EtcdCluster = {
      endpoints,
      processes,
      target: async () => etcdTarget(new etcd.Etcd3({ hosts: endpoints })),
      stop: () => processes.stopAll(),
    };
    const probe = new etcd.Etcd3({ hosts: endpoints });
    try {
      await waitFor('the etcd cluster to accept a put', async () => {
        processes.assertAlive();
        try {
          await probe.put('bench-probe').value(Buffer.from('x'));
          return true;
        } catch {
          return false;
        }
      }, start_timeout_ms, 500);
    } finally {
      probe.close();
    }
    return cluster;
  } catch (err) {
    await processes.stopAll();
    throw err;
  }
}

function etcdTarget(client: EtcdClient): KvTarget {
  const key = (i: number): string => `bench/${String(i).padStart(6, '0')}`;
  const read = (serializable: boolean) => async (i: number): Promise<void> => {
    const value = await client.get(key(i)).serializable(serializable).buffer();
    if (value === null) throw new Error(`etcd: ${key(i)} is missing`);
  };
  return {
    name: 'etcd',
    async setup() {
      for (let i = 0; i < KEY_COUNT; i += 64) {
        await Promise.all(Array.from({ length: Math.min(64, KEY_COUNT - i) }, (_, k) => client.put(key(i + k)).value(valueFor(i + k))));
      }
    },
    async write(i) {
      await client.put(key(i)).value(valueFor(i));
    },
    // linearizable is etcd's default read; serializable is answered by the member locally.
    readOp: (consistency: ReadConsistency) => read(consistency === 'sequential'),
    async close() {
      client.close();
    },
  };
}
