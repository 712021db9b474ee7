/**
 * The cluster topology, described once: `shardkv up` starts it as local processes and
 * compose/docker-compose.yml is generated from it (see compose/), so the two cannot drift.
 * Flags that depend on where a service runs (NATS URL, data dir, listen address) are not
 * here: each launcher adds its own.
 */
export type ServiceRole = 'meta' | 'shard' | 'router';

export interface ServiceSpec {
  /** Unique service name: process name for `up`, service name in compose. */
  name: string;
  role: ServiceRole;
  /** shardkv flags (name -> value) other than --nats, --data and --host. */
  flags: Record<string, string>;
  /** Whether the service keeps data (a volume in compose, a data dir for `up`). */
  stateful: boolean;
  /** Set for groups started outside the ring (scale-out walk-through): a compose profile. */
  profile?: string;
}

export interface TopologyOptions {
  /** Groups on the ring from the start. */
  groups: string[];
  /** Groups started but not on the ring (to add later with `shardkv group add`). */
  spareGroups?: string[];
  routers?: number;
  routerPort?: number;
}

export const META_IDS = ['m1', 'm2', 'm3'];
export const REPLICA_IDS = ['r1', 'r2', 'r3'];
export const SCALE_OUT_PROFILE = 'scale-out';

export function describeTopology(options: TopologyOptions): ServiceSpec[] {
  const services: ServiceSpec[] = [];
  for (const id of META_IDS) {
    services.push({ name: `meta-${id}`, role: 'meta', stateful: true, flags: { id, peers: META_IDS.join(',') } });
  }
  const shardGroup = (group: string, profile?: string): void => {
    for (const id of REPLICA_IDS) {
      services.push({
        name: `shard-${group}-${id}`, role: 'shard', stateful: true,
        flags: { group, id, peers: REPLICA_IDS.join(',') },
        ...(profile === undefined ? {} : { profile }),
      });
    }
  };
  for (const group of options.groups) shardGroup(group);
  for (const group of options.spareGroups ?? []) shardGroup(group, SCALE_OUT_PROFILE);
  const routers = options.routers ?? 1;
  for (let i = 1; i <= routers; i++) {
    services.push({
      name: `router-${i}`, role: 'router', stateful: false,
      flags: { id: `router${i}`, port: String(options.routerPort ?? 7070), 'initial-groups': options.groups.join(',') },
    });
  }
  return services;
}

/** The argv of a service's shardkv command, with the launcher's own flags added. */
export function serviceArgs(service: ServiceSpec, extra: Record<string, string>): string[] {
  const flags = { ...service.flags, ...extra };
  return [service.role, ...Object.entries(flags).flatMap(([name, value]) => [`--${name}`, value])];
}
