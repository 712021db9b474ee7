/**
 * kill -9 of a shard group's leader while four writers load the cluster through the router:
 * every write the router acknowledged is readable afterwards with its value, and the killed
 * replica restarts from its files and catches up with the group.
 */
import t from 'tap';
import { placementKey } from '../../ring/index.js';
import { ProcessCluster } from '../support/process-cluster.js';
import { waitFor } from '../support/wait.js';
import { RouterCalls } from './router-calls.js';

const WRITERS = 4;
const WRITES_PER_WRITER = 100;
const DIRECTORIES = 40;
const KILL_AFTER_ACKS = 80;
const KILL_BY_MS = 10_000;
const LOAD_AFTER_KILL_MS = 15_000;

// Eleven processes start slowly on a loaded 2-core machine: more room than .taprc's 120 s.
t.setTimeout(240_000);
const cluster = await ProcessCluster.startFor(t);
const router = new RouterCalls(cluster.routerUrl());

t.test('kill -9 of the busiest group\'s leader under load loses no acknowledged write', async (t) => {
  const ring = await cluster.ring();
  const pathOf = (writer: number, i: number): string => `/load/dir-${(writer * 7 + i) % DIRECTORIES}/w${writer}-${i}`;
  const load = new Map<string, number>();
  for (let writer = 0; writer < WRITERS; writer++) {
    for (let i = 0; i < WRITES_PER_WRITER; i++) {
      const owner = ring.ownerOf(placementKey(pathOf(writer, i)));
      load.set(owner, (load.get(owner) ?? 0) + 1);
    }
  }
  const victimGroup = [...load.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  const victim = await cluster.leader(victimGroup);
  const victimName = cluster.replicaName(victimGroup, victim.id);
  t.comment(`writes per group ${JSON.stringify(Object.fromEntries(load))}; killing ${victimName}`);

  const acknowledged = new Map<string, string>();
  let ackedAfterKill = 0;
  let failed = 0;
  let killed: Promise<void> | undefined;
  let killedAt = Number.POSITIVE_INFINITY;
  const loadStart = Date.now();
  // The kill comes after KILL_AFTER_ACKS acknowledgements, or after KILL_BY_MS on a slow machine;
  // the load then goes on for up to LOAD_AFTER_KILL_MS.
  const writer = async (id: number): Promise<void> => {
    for (let i = 0; i < WRITES_PER_WRITER && Date.now() < killedAt + LOAD_AFTER_KILL_MS; i++) {
      const path = pathOf(id, i);
      const value = `value ${id}/${i}`;
      const sentAfterKill = killed !== undefined;
      try {
        const reply = await router.createOnce(path, value);
        if (reply.status === 201) {
          acknowledged.set(path, value);
          if (sentAfterKill && ring.ownerOf(placementKey(path)) === victimGroup) ackedAfterKill++;
        } else {
          failed++;
        }
      } catch {
        failed++;
      }
      if (killed === undefined && (acknowledged.size >= KILL_AFTER_ACKS || Date.now() - loadStart > KILL_BY_MS)) {
        killedAt = Date.now();
        killed = cluster.kill(victimName);
      }
    }
  };
  await Promise.all(Array.from({ length: WRITERS }, (_, id) => writer(id)));
  t.ok(killed !== undefined, 'the leader was killed mid-load');
  await killed;
  t.comment(`${acknowledged.size} writes acknowledged (${ackedAfterKill} to ${victimGroup} sent after the kill), ${failed} failed`);
  t.ok(ackedAfterKill > 0, `writes to ${victimGroup} sent after the kill were acknowledged (by its new leader)`);

  const successor = await cluster.leader(victimGroup, 60_000);
  t.not(successor.id, victim.id, `a new leader (${successor.id}) took over`);
  let intact = 0;
  for (const [path, value] of acknowledged) {
    const read = await router.get(path);
    if (read.status === 200 && read.body.data === value) intact++;
    else t.fail(`acknowledged ${path} reads ${read.status} ${JSON.stringify(read.body).slice(0, 200)}`);
  }
  t.equal(intact, acknowledged.size, 'every acknowledged write is readable with its value');

  cluster.start(victimName);
  const leaderNow = await cluster.leader(victimGroup, 60_000);
  const caughtUp = await waitFor(`${victimName} to catch up with zxid ${leaderNow.zxid}`, async () => {
    const status = await cluster.status(victimGroup, victim.id, 1_000);
    return status.zxid >= leaderNow.zxid && status.role === 'following' ? status : undefined;
  }, 60_000, 100);
  t.equal(caughtUp.nodeCount, (await cluster.status(victimGroup, leaderNow.id)).nodeCount, 'the restarted replica holds as many nodes as the leader');
});
