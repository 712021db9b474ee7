/**
 * Side by side with ZooKeeper and etcd (issue 7): ZooKeeper 3.8 as a 3-node ensemble, etcd 3.4
 * as a 3-member cluster, shardkv with one group and with two groups (separate processes over a
 * real nats-server), all on loopback ports with fsync on, all driven by the same load generator
 * (bench/vs/load.ts), one system at a time. Beside them: this machine's physical bounds.
 *
 *   npm run bench -- --only vs [--vs zookeeper,etcd | none]   (`npm run bench` alone skips it) [--shardkv-groups 1,2] [--seconds 12]
 *     [--warmup-seconds 2] [--reps 3] [--workloads write-64,read-lin-64]
 *     [--profile DIR]   (shardkv's router and replicas run with node --cpu-prof into DIR)
 */
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../test/support/tmpdir.js';
import { markdownTable, type BenchSection } from './results.js';
import { summariseCpuProfile } from './vs/cpu-profile.js';
import { startEtcdCluster } from './vs/etcd.js';
import { measureFsyncAppend, measureNatsRoundTrip, type PhysicalBound } from './vs/physical-bounds.js';
import { describeWorkload, measureSystem, WORKLOADS, type Measurement, type SystemUnderTest } from './vs/side-by-side.js';
import { startShardkv } from './vs/shardkv.js';
import { startZooKeeperEnsemble } from './vs/zookeeper.js';

interface VsFlags {
  peers: string[];
  shardkvGroups: number[];
  seconds: number;
  warmupSeconds: number;
  reps: number;
  workloads: string[] | undefined;
  profileDir: string | undefined;
}

function flagValue(args: string[], name: string): string | undefined {
  const at = args.indexOf(`--${name}`);
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

function positive(args: string[], name: string, fallback: number): number {
  const text = flagValue(args, name);
  const value = text === undefined ? fallback : Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number, got ${text}`);
  return value;
}

function list(args: string[], name: string): string[] | undefined {
  return flagValue(args, name)?.split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

function parseFlags(args: string[]): VsFlags {
  // `--vs none` runs shardkv alone (e.g. to profile it)
  const peers = (list(args, 'vs') ?? ['zookeeper', 'etcd']).filter((peer) => peer !== 'none');
  for (const peer of peers) if (peer !== 'zookeeper' && peer !== 'etcd') throw new Error(`--vs: unknown system ${peer} (zookeeper, etcd)`);
  const shardkvGroups = (list(args, 'shardkv-groups') ?? ['1', '2']).map(Number);
  for (const count of shardkvGroups) if (!Number.isInteger(count) || count < 1 || count > 4) throw new Error('--shardkv-groups: 1 to 4 groups');
  const workloads = list(args, 'workloads');
  for (const id of workloads ?? []) if (!WORKLOADS.some((w) => w.id === id)) throw new Error(`--workloads: unknown ${id} (${WORKLOADS.map((w) => w.id).join(', ')})`);
  return {
    peers, shardkvGroups, workloads,
    seconds: positive(args, 'seconds', 12),
    warmupSeconds: positive(args, 'warmup-seconds', 2),
    reps: Math.round(positive(args, 'reps', 3)),
    profileDir: flagValue(args, 'profile'),
  };
}

function systems(flags: VsFlags): SystemUnderTest[] {
  const list: SystemUnderTest[] = [];
  if (flags.peers.includes('zookeeper')) list.push({ name: 'zookeeper', start: (dir) => startZooKeeperEnsemble(dir) });
  if (flags.peers.includes('etcd')) list.push({ name: 'etcd', start: (dir) => startEtcdCluster(dir) });
  for (const count of flags.shardkvGroups) {
    const groups = Array.from({ length: count }, (_, i) => `g${i + 1}`);
    const profiled = flags.profileDir === undefined ? {} : {
      cpuProfileDir: join(flags.profileDir, `shardkv-${count}g`),
      profiled: (service: { role: string }) => service.role !== 'meta',
    };
    if (profiled.cpuProfileDir !== undefined) mkdirSync(profiled.cpuProfileDir, { recursive: true });
    list.push({ name: `shardkv ${count} group${count > 1 ? 's' : ''}`, start: (dir) => startShardkv(dir, { groups, ...profiled }) });
  }
  return list;
}

const fmt = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

function resultsTable(measurements: Measurement[], peers: string[]): string {
  const peerOf = (m: Measurement, peer: string): Measurement | undefined =>
    measurements.find((other) => other.system === peer && other.workload.id === m.workload.id);
  const header = ['workload', 'system', 'ops/s', 'p50 ms', 'p99 ms', ...peers.flatMap((peer) => [`ops/s ÷ ${peer}`, `p99 ÷ ${peer}`])];
  const rows = measurements.map((m) => [
    describeWorkload(m.workload), m.system, Math.round(m.ops_per_s), fmt(m.p50_ms, 2), fmt(m.p99_ms, 2),
    ...peers.flatMap((peer) => {
      const other = peerOf(m, peer);
      if (!m.system.startsWith('shardkv') || other === undefined) return ['', ''];
      return [`${fmt(m.ops_per_s / other.ops_per_s, 2)}x`, `${fmt(m.p99_ms / other.p99_ms, 2)}x`];
    }),
  ]);
  return markdownTable(header, rows);
}

function boundsTable(bounds: PhysicalBound[]): string {
  return markdownTable(['physical bound', 'ops/s', 'p50 ms', 'p99 ms'],
    bounds.map((b) => [b.what, Math.round(b.result.ops_per_s), fmt(b.result.p50_ms, 3), fmt(b.result.p99_ms, 3)]));
}

function profileReport(profileDir: string): string {
  const parts: string[] = [];
  for (const system of readdirSync(profileDir).sort()) {
    for (const file of readdirSync(join(profileDir, system)).filter((name) => name.endsWith('.cpuprofile')).sort()) {
      const summary = summariseCpuProfile(join(profileDir, system, file), 12);
      parts.push(`#### ${system} ${file}: busy ${(summary.busy_ms / 1000).toFixed(1)} s of ${(summary.wall_ms / 1000).toFixed(1)} s`, '',
        markdownTable(['area', 'self ms', '% of wall'], summary.areas.map((l) => [l.name, Math.round(l.self_ms), fmt(100 * l.share, 1)])), '',
        markdownTable(['frame', 'self ms', '% of wall'], summary.frames.map((l) => [`\`${l.name}\``, Math.round(l.self_ms), fmt(100 * l.share, 1)])), '');
    }
  }
  return parts.join('\n');
}

/** The side-by-side run takes minutes and needs ZooKeeper and etcd installed: only on request. */
function requested(args: string[]): boolean {
  return args.includes('--vs') || (list(args, 'only') ?? []).includes('vs');
}

export default async function vsBench(options: { args: string[] }): Promise<BenchSection[]> {
  if (!requested(options.args)) {
    process.stderr.write('vs: skipped (run it with --vs zookeeper,etcd or --only vs)\n');
    return [];
  }
  const flags = parseFlags(options.args);
  const workloads = flags.workloads === undefined ? WORKLOADS : WORKLOADS.filter((w) => flags.workloads?.includes(w.id));
  const progress = (line: string): void => { process.stderr.write(`vs: ${line}\n`); };
  const temp = makeTempDir('bench-vs');
  try {
    const bounds = [
      await measureNatsRoundTrip(1, 3_000),
      await measureNatsRoundTrip(64, 3_000),
      await measureFsyncAppend(temp.dir, 3_000),
    ];
    for (const b of bounds) progress(`${b.what}: ${Math.round(b.result.ops_per_s)}/s, p50 ${fmt(b.result.p50_ms, 3)} ms`);
    const measurements: Measurement[] = [];
    const settings = { workloads, reps: flags.reps, measure_ms: flags.seconds * 1000, warmup_ms: flags.warmupSeconds * 1000, progress };
    for (const system of systems(flags)) measurements.push(...(await measureSystem(system, temp.dir, settings)));
    const markdown = [
      `Each system alone on this machine (the load generator in the bench process, the servers on loopback ports), fsync on in all.`,
      `ZooKeeper 3.8 (3 JVMs, node-zookeeper-client, one session), etcd 3.4 (3 members, etcd3 over gRPC),`,
      `shardkv (3 meta + 3 replicas per group + 1 router over a nats-server; HTTP keep-alive, one socket per request in flight).`,
      `${flags.reps} repetition(s) of ${flags.seconds} s after ${flags.warmupSeconds} s warm-up per row; medians. 1000 keys, set round robin.`,
      `Reads: ZooKeeper serves getData from the connected server (sequential); there is no linearizable ZooKeeper row.`,
      `etcd sequential = serializable range. Ratios are shardkv ÷ peer (ops/s: higher is better; p99: lower is better).`,
      '',
      resultsTable(measurements, flags.peers),
      '',
      'Physical bounds of this machine, measured in the same run:',
      '',
      boundsTable(bounds),
      ...(flags.profileDir === undefined ? [] : ['', '### CPU profiles (node --cpu-prof, whole process lifetime)', '', profileReport(flags.profileDir)]),
    ].join('\n');
    const id = flags.profileDir === undefined ? 'vs' : 'vs-profile';
    const title = flags.profileDir === undefined ? 'Side by side: ZooKeeper, etcd, shardkv' : 'Side by side, profiled (CPU profiles slow shardkv down)';
    return [{ id, title, markdown }];
  } finally {
    temp.cleanup();
  }
}
