/**
 * A service registry following Apache Curator's x-discovery (ServiceDiscovery + ServiceCache).
 *
 * Same: an instance is registered as an EPHEMERAL node `<basePath>/<name>/<id>` whose data is the
 * instance as JSON (name, id, address, port, payload, registrationTimeUTC), so it disappears when
 * its session ends; queryForNames/queryForInstances read the registry; a ServiceCache keeps the
 * current instance list of one service with a child watch on its directory (and a data watch on
 * each instance, so updates show) and tells listeners each time the list changes.
 *
 * Differs: the registering process's Session owns the instances (Curator re-registers them after
 * a reconnect with a new session; here a lost session's instances are gone and the caller
 * registers again on a new session); the payload is checked by an optional decode function
 * rather than a Jackson type; services are not enumerable by a cache (queryForNames lists them).
 *
 *   const registry = new ServiceRegistry(session, '/services');
 *   await registry.register({ name: 'api', id: 'api-1', address: '10.0.0.7', port: 8080 });
 *   const cache = new ServiceCache(session, '/services', 'api');
 *   cache.addListener((instances) => route(instances));
 *   await cache.start();
 */
import { randomUUID } from 'node:crypto';
import { ShardkvClientError } from '../client-error.js';
import type { Session } from '../session.js';
import type { ShardkvClient } from '../shardkv-client.js';
import { childPath, deleteIfExists, isCode } from './sequential-nodes.js';
import type { SessionWatches } from './session-watches.js';
import { WatchedView, type ViewRead } from './watched-view.js';

export interface ServiceInstance<P = unknown> {
  name: string;
  id: string;
  address: string;
  port: number | null;
  payload: P | null;
  registrationTimeUTC: number;
}

export interface InstanceSpec<P> {
  name: string;
  /** Default: a random uuid. */
  id?: string;
  address: string;
  port?: number;
  payload?: P;
}

function checkName(kind: string, value: string): void {
  if (value === '' || value.includes('/')) throw new ShardkvClientError('BAD_ARGUMENTS', 0, `invalid service ${kind} ${JSON.stringify(value)}`);
}

/** Parses an instance node's data; null when it is not one (a foreign node in the directory). */
function parseInstance<P>(text: string | null, decodePayload: ((payload: unknown) => P) | undefined): ServiceInstance<P> | null {
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as Partial<ServiceInstance<unknown>>;
    if (typeof value.name !== 'string' || typeof value.id !== 'string' || typeof value.address !== 'string') return null;
    const payload = value.payload === undefined || value.payload === null ? null : decodePayload === undefined ? (value.payload as P) : decodePayload(value.payload);
    return {
      name: value.name,
      id: value.id,
      address: value.address,
      port: typeof value.port === 'number' ? value.port : null,
      payload,
      registrationTimeUTC: typeof value.registrationTimeUTC === 'number' ? value.registrationTimeUTC : 0,
    };
  } catch {
    return null;
  }
}

export class ServiceRegistry {
  constructor(
    readonly session: Session,
    readonly basePath: string,
  ) {}

  /** Registers an instance (NODE_EXISTS if its id is taken); it lives as long as the session. */
  async register<P>(spec: InstanceSpec<P>): Promise<ServiceInstance<P>> {
    const instance: ServiceInstance<P> = {
      name: spec.name,
      id: spec.id ?? randomUUID(),
      address: spec.address,
      port: spec.port ?? null,
      payload: spec.payload ?? null,
      registrationTimeUTC: Date.now(),
    };
    checkName('name', instance.name);
    checkName('id', instance.id);
    await this.session.create(this.instancePath(instance.name, instance.id), JSON.stringify(instance), { mode: 'ephemeral' });
    return instance;
  }

  /** Replaces a registered instance's data (NO_NODE if it is not registered). */
  async update<P>(instance: ServiceInstance<P>): Promise<void> {
    await this.session.client.set(this.instancePath(instance.name, instance.id), JSON.stringify(instance));
  }

  async unregister(name: string, id: string): Promise<void> {
    await deleteIfExists(this.session, this.instancePath(name, id));
  }

  private instancePath(name: string, id: string): string {
    return childPath(childPath(this.basePath, name), id);
  }

  /** The services with at least one instance... or ever registered (directories are implicit). */
  static async queryForNames(client: ShardkvClient, basePath: string): Promise<string[]> {
    return (await client.children(basePath)).children;
  }

  static async queryForInstances<P = unknown>(client: ShardkvClient, basePath: string, name: string, decodePayload?: (payload: unknown) => P): Promise<ServiceInstance<P>[]> {
    const dir = childPath(basePath, name);
    const instances: ServiceInstance<P>[] = [];
    for (const id of (await client.children(dir)).children) {
      try {
        const instance = parseInstance((await client.get(childPath(dir, id))).text, decodePayload);
        if (instance !== null) instances.push(instance);
      } catch (err) {
        if (!isCode(err, 'NO_NODE')) throw err;
      }
    }
    return instances;
  }
}

export class ServiceCache<P = unknown> {
  private current: ServiceInstance<P>[] = [];
  private currentKey = '[]';
  private readonly listeners = new Set<(instances: ServiceInstance<P>[]) => void>();
  private readonly view: WatchedView;
  readonly dir: string;

  constructor(
    readonly session: Session,
    readonly basePath: string,
    readonly name: string,
    private readonly decodePayload?: (payload: unknown) => P,
  ) {
    this.dir = childPath(basePath, name);
    this.view = new WatchedView(session, `the cache of ${this.dir}`, (watches, signal) => this.refresh(watches, signal));
  }

  /** The current instances, ordered by id. */
  instances(): ServiceInstance<P>[] {
    return [...this.current];
  }

  /** Called with the new list on every change (Curator's cacheChanged). Returns its remover. */
  addListener(listener: (instances: ServiceInstance<P>[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Loads the list (resolves once loaded) and keeps it current until close(). */
  start(): Promise<void> {
    return this.view.start();
  }

  close(): Promise<void> {
    return this.view.close();
  }

  /** Reads the list with watches; `woken` resolves on the next change. */
  private refresh(watches: SessionWatches, signal: AbortSignal): ViewRead {
    const dir = this.dir;
    const wakeup = watches.arm((path) => path === dir || path.startsWith(`${dir}/`), signal);
    const loaded = (async () => {
      try {
        const ids = (await this.session.children(dir, { watch: true })).children;
        const instances: ServiceInstance<P>[] = [];
        for (const id of ids) {
          try {
            const instance = parseInstance((await this.session.get(childPath(dir, id), { watch: true })).text, this.decodePayload);
            if (instance !== null) instances.push(instance);
          } catch (err) {
            if (!isCode(err, 'NO_NODE')) throw err;
          }
        }
        this.publish(instances.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)));
      } catch (err) {
        wakeup.cancel();
        throw err;
      }
    })();
    return { loaded, woken: wakeup.wait().then((reason) => reason.kind) };
  }

  private publish(instances: ServiceInstance<P>[]): void {
    const key = JSON.stringify(instances);
    if (key === this.currentKey) return;
    this.current = instances;
    this.currentKey = key;
    for (const listener of [...this.listeners]) {
      try {
        listener(this.instances());
      } catch {
        // A listener's failure is its own.
      }
    }
  }
}
