/**
 * `shardkv up` / `shardkv down`: the topology (topology.ts) as separate local processes over a
 * real nats-server that `up` starts; pids and logs in a state directory, so `down` can stop
 * them by pid. `up` returns once the router answers /healthz.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from './command.js';
import { UsageError } from './flags.js';
import { describeTopology, serviceArgs } from './topology.js';

const MAIN = join(dirname(fileURLToPath(import.meta.url)), 'main.js');

interface UpState {
  router: string;
  nats: string;
  pids: Record<string, number>;
}

function stateFile(stateDir: string): string {
  return join(stateDir, 'up.json');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readState(stateDir: string): UpState | undefined {
  const file = stateFile(stateDir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as UpState) : undefined;
}

function launch(name: string, command: string, args: string[], logsDir: string): number {
  const log = openSync(join(logsDir, `${name}.log`), 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  if (child.pid === undefined) throw new UsageError(`could not start ${name} (${command})`);
  return child.pid;
}

async function waitHealthy(url: string, deadline_ms: number): Promise<boolean> {
  const deadline = Date.now() + deadline_ms;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/healthz`);
      if (response.ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
  return false;
}

/**
 * Stops routers and shard replicas first, then the meta ensemble, then nats-server: a shard
 * replica or router whose meta ensemble is gone waits for it instead of closing promptly.
 */
async function stopAll(state: UpState, grace_ms: number): Promise<void> {
  const wave = (names: string[]) => names.map((name) => state.pids[name]).filter((pid): pid is number => pid !== undefined);
  const names = Object.keys(state.pids);
  const waves = [
    wave(names.filter((name) => !name.startsWith('meta-') && name !== 'nats')),
    wave(names.filter((name) => name.startsWith('meta-'))),
    wave(['nats']),
  ];
  for (const pids of waves) {
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + grace_ms;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((resolveWait) => setTimeout(resolveWait, 100));
    for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  }
}

export const upCommand: Command = {
  name: 'up',
  summary: 'start the topology as local processes over a nats-server (stop it with shardkv down)',
  usage: 'shardkv up [--state-dir .shardkv] [--groups 2] [--spare-groups 0] [--port 7070] [--nats-port 4222]',
  flags: [
    { name: 'state-dir', kind: 'string', default: '.shardkv', description: 'data, logs and pids of every process' },
    { name: 'groups', kind: 'number', default: 2, description: 'shard groups on the ring' },
    { name: 'spare-groups', kind: 'number', default: 0, description: 'extra shard groups started outside the ring (add them with shardkv group add)' },
    { name: 'port', kind: 'number', default: 7070, description: 'router HTTP port' },
    { name: 'nats-port', kind: 'number', default: 4222, description: 'nats-server port' },
    { name: 'nats-server', kind: 'string', default: 'nats-server', description: 'the nats-server binary' },
  ],
  async run(flags) {
    const stateDir = resolve(String(flags['state-dir']));
    const groups = flags.groups as number;
    const spare = flags['spare-groups'] as number;
    if (!Number.isInteger(groups) || groups < 1 || !Number.isInteger(spare) || spare < 0 || groups + spare > 16) {
      throw new UsageError('--groups (>= 1) and --spare-groups (>= 0) must be integers, 16 groups at most');
    }
    const previous = readState(stateDir);
    if (previous !== undefined && Object.values(previous.pids).some(alive)) {
      throw new UsageError(`already up (pids in ${stateFile(stateDir)}); run shardkv down first`);
    }
    const logsDir = join(stateDir, 'logs');
    mkdirSync(logsDir, { recursive: true });
    const natsUrl = `nats://127.0.0.1:${String(flags['nats-port'])}`;
    const pids: Record<string, number> = {};
    const conf = join(stateDir, 'nats.conf');
    // A 1 MiB znode plus its envelope needs more than nats-server's default 1 MiB max_payload.
    writeFileSync(conf, 'max_payload: 8388608\n');
    pids.nats = launch('nats', String(flags['nats-server']), ['-c', conf, '-a', '127.0.0.1', '-p', String(flags['nats-port'])], logsDir);
    const ids = Array.from({ length: groups + spare }, (_, i) => `g${i + 1}`);
    const topology = describeTopology({ groups: ids.slice(0, groups), spareGroups: ids.slice(groups), routerPort: flags.port as number });
    for (const service of topology) {
      const extra: Record<string, string> = { nats: natsUrl };
      if (service.stateful) extra.data = join(stateDir, 'data', service.name);
      pids[service.name] = launch(service.name, process.execPath, [MAIN, ...serviceArgs(service, extra)], logsDir);
    }
    const router = `http://127.0.0.1:${String(flags.port)}`;
    const state: UpState = { router, nats: natsUrl, pids };
    writeFileSync(stateFile(stateDir), `${JSON.stringify(state, null, 2)}\n`);
    if (!(await waitHealthy(router, 60_000))) {
      process.stderr.write(`shardkv up: the router did not become healthy within 60 s; logs in ${logsDir}\n`);
      await stopAll(state, 3_000);
      rmSync(stateFile(stateDir), { force: true });
      return 1;
    }
    process.stdout.write([
      `shardkv is up: ${topology.length} processes over ${natsUrl}; router at ${router}`,
      `state, data and logs: ${stateDir}`,
      `try: curl ${router}/v1/ring    stop: shardkv down --state-dir ${String(flags['state-dir'])}`,
      '',
    ].join('\n'));
    return 0;
  },
};

export const downCommand: Command = {
  name: 'down',
  summary: 'stop what shardkv up started (by pid)',
  usage: 'shardkv down [--state-dir .shardkv] [--purge]',
  flags: [
    { name: 'state-dir', kind: 'string', default: '.shardkv', description: 'the state directory of shardkv up' },
    { name: 'purge', kind: 'boolean', default: false, description: 'also delete every data directory and log' },
  ],
  async run(flags) {
    const stateDir = resolve(String(flags['state-dir']));
    const state = readState(stateDir);
    if (state === undefined) {
      process.stderr.write(`shardkv down: nothing is up (no ${stateFile(stateDir)})\n`);
      return 1;
    }
    await stopAll(state, 5_000);
    rmSync(stateFile(stateDir), { force: true });
    if (flags.purge === true) rmSync(stateDir, { recursive: true, force: true });
    process.stdout.write(`stopped ${Object.keys(state.pids).length} processes\n`);
    return 0;
  },
};
