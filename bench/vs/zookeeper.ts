/**
 * ZooKeeper 3.8 (Debian's `zookeeper` package) as a 3-node ensemble on loopback ports: three
 * JVMs running QuorumPeerMain, each with its own zoo.cfg and dataDir in a temp dir, fsync on
 * (forceSync=yes, ZooKeeper's default). Driven through node-zookeeper-client (pure JS).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/support/nats-server.js';
import { waitFor } from '../../test/support/wait.js';
import { KEY_COUNT, valueFor, type KvTarget, type ReadConsistency } from './load.js';
import { importOptional } from './optional-module.js';
import { ProcessGroup } from './process-group.js';

/** Debian's jar carries its dependencies in its manifest Class-Path; slf4j-simple gives it a logger. */
const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const CLASSPATH = [ZOOKEEPER_JAR, '/usr/share/java/slf4j-simple.jar'].join(':');

interface ZkStat { version: number }
interface ZkClient {
  connect(): void;
  close(): void;
  once(event: 'connected', listener: () => void): void;
  create(path: string, data: Buffer, callback: (error: Error | null, path: string) => void): void;
  setData(path: string, data: Buffer, version: number, callback: (error: Error | null, stat: ZkStat) => void): void;
  getData(path: string, callback: (error: Error | null, data: Buffer, stat: ZkStat) => void): void;
}
interface ZkModule {
  createClient(connectionString: string, options: { sessionTimeout: number; spinDelay: number; retries: number }): ZkClient;
  Exception: { NODE_EXISTS: number };
}

export interface ZooKeeperEnsemble {
  connectString: string;
  processes: ProcessGroup;
  target(): Promise<KvTarget>;
  stop(): Promise<void>;
}

export async function startZooKeeperEnsemble(dir: string, start_timeout_ms = 60_000): Promise<ZooKeeperEnsemble> {
  if (!existsSync(ZOOKEEPER_JAR)) throw new Error(`${ZOOKEEPER_JAR} is missing: apt-get install -y zookeeper`);
  const zk = await importOptional<ZkModule>('node-zookeeper-client', 'the ZooKeeper side of the bench');
  const ids = [1, 2, 3];
  const ports = await Promise.all(ids.map(async () => ({ client: await freePort(), quorum: await freePort(), election: await freePort() })));
  const processes = new ProcessGroup(join(dir, 'logs'));
  const servers = ids.map((id, n) => `server.${id}=127.0.0.1:${ports[n]?.quorum}:${ports[n]?.election}`);
  try {
    for (const [n, id] of ids.entries()) {
      const dataDir = join(dir, `zk${id}`);
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(join(dataDir, 'myid'), `${id}\n`);
      const cfg = join(dataDir, 'zoo.cfg');
      writeFileSync(cfg, [
        'tickTime=2000', 'initLimit=10', 'syncLimit=5', `dataDir=${dataDir}`,
        `clientPort=${ports[n]?.client}`, 'clientPortAddress=127.0.0.1', 'maxClientCnxns=0',
        'admin.enableServer=false', 'forceSync=yes', ...servers, '',
      ].join('\n'));
      processes.start(`zk${id}`, 'java', [
        '-Xms256m', '-Xmx512m', '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn', '-Dzookeeper.jmx.log4j.disable=true',
        '-cp', CLASSPATH, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', cfg,
      ]);
    }
    const connectString = ports.map((p) => `127.0.0.1:${p.client}`).join(',');
    const ensemble: ZooKeeperEnsemble = {
      connectString,
      processes,
      target: () => zooKeeperTarget(zk, connectString),
      stop: () => processes.stopAll(),
    };
    // Ready once a client can create a node (a quorum has elected a leader and synced).
    await waitFor('the ZooKeeper ensemble to accept a create', async () => {
      processes.assertAlive();
      const target = await zooKeeperTarget(zk, connectString, 3_000).catch(() => undefined);
      if (target === undefined) return false;
      try {
        await target.probe();
        return true;
      } catch {
        return false;
      } finally {
        await target.close();
      }
    }, start_timeout_ms, 500);
    return ensemble;
  } catch (err) {
    await processes.stopAll();
    throw err;
  }
}

function call<T>(start: (callback: (error: Error | null, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => start((error, value) => (error === null || error === undefined ? resolve(value) : reject(error))));
}

async function zooKeeperTarget(zk: ZkModule, connectString: string, connect_timeout_ms = 20_000): Promise<KvTarget & { probe(): Promise<void> }> {
  const client = zk.createClient(connectString, { sessionTimeout: 30_000, spinDelay: 100, retries: 3 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`no ZooKeeper connection within ${connect_timeout_ms} ms`));
    }, connect_timeout_ms);
    client.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  const path = (i: number): string => `/bench-${String(i).padStart(6, '0')}`;
  const createIfAbsent = async (p: string, data: Buffer): Promise<void> => {
    try {
      await call<string>((cb) => client.create(p, data, cb));
    } catch (err) {
      if ((err as { code?: number }).code !== zk.Exception.NODE_EXISTS) throw err;
    }
  };
  const read = async (i: number): Promise<void> => {
    await call<Buffer>((cb) => client.getData(path(i), cb));
  };
  return {
    name: 'zookeeper',
    async setup() {
      for (let i = 0; i < KEY_COUNT; i += 64) {
        await Promise.all(Array.from({ length: Math.min(64, KEY_COUNT - i) }, (_, k) => createIfAbsent(path(i + k), valueFor(i + k))));
      }
    },
    async write(i) {
      await call<ZkStat>((cb) => client.setData(path(i), valueFor(i), -1, cb));
    },
    // ZooKeeper reads are served by the connected server (sequential consistency); a
    // linearizable read would need sync() first, which is not how ZooKeeper is used.
    readOp: (consistency: ReadConsistency) => (consistency === 'sequential' ? read : undefined),
    async probe() {
      await createIfAbsent('/bench-probe', Buffer.from('x'));
    },
    async close() {
      client.close();
    },
  };
}
