import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { commands } from '../../cli/commands.js';
import { envName, parseFlags } from '../../cli/flags.js';
import { describeTopology, serviceArgs } from '../../cli/topology.js';
import {
  APP_IMAGE,
  COMPOSE_TOPOLOGY,
  composeDocument,
  composeYaml,
  REPLICA_HEALTH_SCRIPT,
  serviceEnvironment,
} from '../../compose/compose-file.js';
import { CLI_MAIN, COMPOSE_DIR, COMPOSE_FILE, OUT_DIR } from './repo-files.js';

interface ComposeService {
  image: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  depends_on?: string[];
  profiles?: string[];
  healthcheck?: { test: string[] };
}

interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
}

/** Parses YAML with PyYAML (it comes with Debian's docker-compose): a parser that is not ours. */
function parseYaml(text: string): unknown {
  const result = spawnSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], { input: text, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`python3 yaml failed (apt-get install -y docker-compose brings python3-yaml): ${result.stderr || String(result.error)}`);
  return JSON.parse(result.stdout);
}

/** Runs node with args and env; resolves with the exit status and stderr (spawnSync would run them one by one). */
function runNode(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stderr }));
  });
}

const checkedIn = readFileSync(COMPOSE_FILE, 'utf8');
const routerPort = COMPOSE_TOPOLOGY.routerPort ?? 7070;
const topology = describeTopology(COMPOSE_TOPOLOGY);
const composeEnvOnly = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv =>
  Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('SHARDKV_')));

t.test('the checked-in compose file is exactly what the generator makes of the topology', async (t) => {
  t.equal(checkedIn, composeYaml(), 'compose/docker-compose.yml is stale: regenerate it with `node dist/compose/generate.js > compose/docker-compose.yml`');
});

t.test('the compose file parses (PyYAML) into the generated document', async (t) => {
  t.same(parseYaml(checkedIn), composeDocument(topology, routerPort));
});

const file = parseYaml(checkedIn) as ComposeFile;
const appServices = Object.entries(file.services).filter(([, service]) => service.image === APP_IMAGE);

t.test('the compose file has every service of the topology and nats', async (t) => {
  t.same(Object.keys(file.services).sort(), ['nats', ...topology.map((service) => service.name)].sort());
  t.same(appServices.filter(([, service]) => service.profiles?.includes('scale-out')).map(([name]) => name), ['shard-g3-r1', 'shard-g3-r2', 'shard-g3-r3']);
});

t.test('every environment variable of a service is a flag of its shardkv command', async (t) => {
  for (const [name, service] of appServices) {
    const command = commands.find((candidate) => candidate.name === service.command?.[0]);
    t.ok(command, `${name}: command ${String(service.command?.[0])} is a shardkv command`);
    const known = new Set(command?.flags.map((flag) => envName(flag.name)));
    const unknown = Object.keys(service.environment ?? {}).filter((variable) => !known.has(variable));
    t.same(unknown, [], `${name}: no environment variable the CLI would ignore`);
  }
});

t.test('every service command with its environment passes the CLI\'s --check-config', async (t) => {
  t.ok(existsSync(CLI_MAIN), `the compiled CLI is at ${CLI_MAIN}`);
  const results = await Promise.all(appServices.map(async ([name, service]) => ({
    name,
    service,
    result: await runNode([CLI_MAIN, ...(service.command ?? []), '--check-config'], { ...composeEnvOnly(process.env), ...service.environment }),
  })));
  for (const { name, service, result } of results) {
    t.equal(result.status, 0, `${name}: shardkv ${(service.command ?? []).join(' ')} --check-config exits 0 ${result.stderr}`);
  }
  // The check can fail: a replica without its id is refused.
  const meta = file.services['meta-m1'] as ComposeService;
  const { SHARDKV_ID: _id, ...withoutId } = meta.environment ?? {};
  const refused = await runNode([CLI_MAIN, 'meta', '--check-config'], { ...composeEnvOnly(process.env), ...withoutId });
  t.equal(refused.status, 2, 'meta without SHARDKV_ID is a usage error');
});

t.test('compose and shardkv up configure each service with the same flags', async (t) => {
  const launcherFlags = ['nats', 'data', 'host'];
  for (const service of topology) {
    const command = commands.find((candidate) => candidate.name === service.role);
    if (command === undefined) throw new Error(`no command ${service.role}`);
    // What `shardkv up` passes (its launcher flags differ by design) ...
    const upArgv = serviceArgs(service, { nats: 'nats://127.0.0.1:4222', ...(service.stateful ? { data: '/up/data' } : {}) });
    const fromUp = parseFlags(upArgv.slice(1), command.flags, {}).flags;
    // ... and what the compose environment gives, compared flag by flag.
    const fromCompose = parseFlags([], command.flags, serviceEnvironment(service, routerPort)).flags;
    for (const flag of launcherFlags) {
      delete fromUp[flag];
      delete fromCompose[flag];
    }
    t.same(fromCompose, fromUp, `${service.name}: same flags from the compose environment as from shardkv up's argv`);
  }
});

t.test('every volume, port and dependency a service names exists', async (t) => {
  const used = new Set<string>();
  const hostPorts: string[] = [];
  for (const [name, service] of Object.entries(file.services)) {
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0] as string;
      if (source.startsWith('.')) t.ok(existsSync(join(COMPOSE_DIR, source)), `${name}: bind-mounted ${source} exists beside the compose file`);
      else {
        t.ok(source in file.volumes, `${name}: volume ${source} is declared`);
        used.add(source);
      }
    }
    const dataDir = service.environment?.SHARDKV_DATA;
    if (dataDir !== undefined) t.ok(service.volumes?.some((volume) => volume.endsWith(`:${dataDir}`)), `${name}: a named volume is mounted on its data dir ${dataDir}`);
    for (const dependency of service.depends_on ?? []) {
      const target = file.services[dependency];
      t.ok(target, `${name}: depends on ${dependency}, which exists`);
      t.ok(target?.profiles === undefined || service.profiles !== undefined, `${name}: does not depend on ${dependency} of a profile`);
    }
    for (const port of service.ports ?? []) {
      const [host, container] = port.split(':');
      hostPorts.push(host as string);
      t.equal(container, service.environment?.SHARDKV_PORT, `${name}: publishes the port the router listens on`);
      t.equal(service.environment?.SHARDKV_HOST, '0.0.0.0', `${name}: listens on every interface of its container`);
    }
    if (service.healthcheck?.test.includes(REPLICA_HEALTH_SCRIPT)) {
      t.ok(existsSync(join(OUT_DIR, REPLICA_HEALTH_SCRIPT.replace(/^dist\//, ''))), `${name}: its healthcheck script is compiled`);
    }
  }
  t.same([...used].sort(), Object.keys(file.volumes).sort(), 'every declared volume is used');
  t.same(hostPorts, ['7070', '7071'], 'the two routers publish 7070 and 7071');
});

t.test('docker-compose config accepts the file and its scale-out profile', async (t) => {
  const run = (args: string[]) => spawnSync('docker-compose', ['-f', COMPOSE_FILE, ...args], { encoding: 'utf8' });
  const plain = run(['config', '-q']);
  t.equal(plain.status, 0, `docker-compose config -q (apt-get install -y docker-compose): ${plain.stderr ?? ''}${String(plain.error ?? '')}`);
  t.equal(run(['config', '--profiles']).stdout.trim(), 'scale-out', 'the one profile is scale-out');
  const withProfile = parseYaml(run(['--profile', 'scale-out', 'config']).stdout) as ComposeFile;
  const third = Object.entries(withProfile.services).filter(([, service]) => service.profiles?.includes('scale-out')).map(([name]) => name).sort();
  t.same(third, ['shard-g3-r1', 'shard-g3-r2', 'shard-g3-r3'], 'the scale-out profile holds exactly the third group');
});
