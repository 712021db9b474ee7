/**
 * compose/docker-compose.yml as a function of the one topology description (cli/topology.ts):
 * the same services, names and flags `shardkv up` starts, with every flag given as its
 * environment variable (cli/flags.ts envName) and the launcher's own flags (NATS URL, data
 * dir, listen address) set for containers. test/compose checks the checked-in file is
 * exactly this.
 */
import { envName } from '../cli/flags.js';
import { describeTopology, type ServiceSpec, type TopologyOptions } from '../cli/topology.js';
import { renderYaml, type YamlValue } from './yaml.js';

/** The topology of the compose walk-through: two groups on the ring, a third to add later, two routers. */
export const COMPOSE_TOPOLOGY: TopologyOptions = { groups: ['g1', 'g2'], spareGroups: ['g3'], routers: 2, routerPort: 7070 };

export const APP_IMAGE = 'shardkv:latest';
export const NATS_IMAGE = 'nats:2.10';
export const NATS_SERVICE = 'nats';
export const NATS_URL = `nats://${NATS_SERVICE}:4222`;
/** Where each stateful service's named volume is mounted (the image creates it, owned by the app user). */
export const DATA_DIR = '/data';
/** router-N publishes host port ROUTER_HOST_PORT + N - 1 (7070, 7071, ...). */
export const ROUTER_HOST_PORT = 7070;
/** The replica healthcheck script, relative to the image's working directory. */
export const REPLICA_HEALTH_SCRIPT = 'dist/compose/replica-health.js';

export const GENERATED_HEADER = [
  '# GENERATED from cli/topology.ts by `node dist/compose/generate.js > compose/docker-compose.yml`',
  '# (or `shardkv compose --out compose/docker-compose.yml`). Do not edit by hand: test/compose',
  '# fails when this file and the generator differ.',
  '#',
  '# Every shardkv flag is given as its environment variable (--initial-groups is',
  '# SHARDKV_INITIAL_GROUPS). router-1 publishes port 7070 and router-2 port 7071; both',
  '# serve the same API. The scale-out profile starts the third group, outside the ring.',
].join('\n');

/** The environment of one service: its topology flags plus the container launcher's own. */
export function serviceEnvironment(service: ServiceSpec, routerPort: number): Record<string, string> {
  const launcher: Record<string, string> = { nats: NATS_URL };
  if (service.stateful) launcher.data = DATA_DIR;
  if (service.role === 'router') {
    launcher.host = '0.0.0.0';
    launcher.port = String(routerPort);
  }
  const flags = { ...service.flags, ...launcher };
  return Object.fromEntries(Object.entries(flags).map(([flag, value]) => [envName(flag), value]));
}

export function volumeName(service: ServiceSpec): string {
  return `${service.name}-data`;
}

// The timer is not only a deadline: node's fetch can leave its promise pending with no
// handle keeping the loop alive when the peer closes the connection, and node would then
// exit 0, reporting a dead router healthy.
const ROUTER_HEALTH_JS = [
  'process.exitCode=1;setTimeout(()=>process.exit(1),4000);',
  "fetch('http://127.0.0.1:'+process.env.SHARDKV_PORT+'/healthz').then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))",
].join('');

function healthcheck(service: ServiceSpec): YamlValue {
  const test = service.role === 'router'
    ? ['CMD', 'node', '-e', ROUTER_HEALTH_JS]
    : ['CMD', 'node', REPLICA_HEALTH_SCRIPT];
  return { test, interval: '10s', timeout: '5s', retries: 3, start_period: '30s' };
}

function dependencies(service: ServiceSpec, all: ServiceSpec[]): string[] {
  // Never on a service of a profile: compose refuses to start a service whose dependency is not enabled.
  const onRing = all.filter((other) => other.profile === undefined);
  const names = (role: ServiceSpec['role']): string[] => onRing.filter((other) => other.role === role).map((other) => other.name);
  switch (service.role) {
    case 'meta':
      return [NATS_SERVICE];
    case 'shard':
      return [NATS_SERVICE, ...names('meta')];
    case 'router':
      return [NATS_SERVICE, ...names('meta'), ...names('shard')];
  }
}

function appService(service: ServiceSpec, all: ServiceSpec[], routerIndex: number, routerPort: number): Record<string, YamlValue> {
  const entry: Record<string, YamlValue> = {
    image: APP_IMAGE,
    build: { context: '..', dockerfile: 'compose/Dockerfile' },
    command: [service.role],
    environment: serviceEnvironment(service, routerPort),
    restart: 'unless-stopped',
    depends_on: dependencies(service, all),
    healthcheck: healthcheck(service),
  };
  if (service.stateful) entry.volumes = [`${volumeName(service)}:${DATA_DIR}`];
  if (service.role === 'router') entry.ports = [`${ROUTER_HOST_PORT + routerIndex}:${routerPort}`];
  if (service.profile !== undefined) entry.profiles = [service.profile];
  return entry;
}

/** The compose document of a topology (services in topology order after nats). */
export function composeDocument(services: ServiceSpec[], routerPort: number): Record<string, YamlValue> {
  const composeServices: Record<string, YamlValue> = {
    [NATS_SERVICE]: {
      image: NATS_IMAGE,
      // nats-server has no max_payload flag: the limit (8 MiB, above a 1 MiB znode plus its envelope) is in the config file.
      command: ['-c', '/etc/nats/shardkv.conf'],
      volumes: ['./nats.conf:/etc/nats/shardkv.conf:ro'],
      restart: 'unless-stopped',
    },
  };
  let routerIndex = 0;
  for (const service of services) {
    composeServices[service.name] = appService(service, services, service.role === 'router' ? routerIndex++ : 0, routerPort);
  }
  const volumes: Record<string, YamlValue> = {};
  for (const service of services) if (service.stateful) volumes[volumeName(service)] = {};
  return { services: composeServices, volumes };
}

/** The text of compose/docker-compose.yml. */
export function composeYaml(options: TopologyOptions = COMPOSE_TOPOLOGY): string {
  const document = composeDocument(describeTopology(options), options.routerPort ?? 7070);
  return `${GENERATED_HEADER}\n${renderYaml(document)}`;
}
