/**
 * The meta ensemble over a real nats-server, 3 replica processes: writes and reads with
 * ZooKeeper's stat, versions and errors; sequential names; multi; the three read consistencies;
 * the cluster records a fresh ensemble starts with.
 */
import t from 'tap';
import type { MultiOpFailure } from '../../znode/types.js';
import { MetaCluster } from '../support/meta-cluster.js';
import { waitFor } from '../support/wait.js';

const text = (value: string) => new TextEncoder().encode(value);
const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

const cluster = await MetaCluster.start();
t.teardown(() => cluster.stopAll({ keepLogs: !t.passing() }));
const client = await cluster.client();

t.test('the cluster records exist after start: /cluster/config, /groups, /ring at version 0', async (t) => {
  // The leader creates them right after it is established; wait for the last one.
  const { data: ringBytes } = await waitForNode('/ring');
  const ring = JSON.parse(decode(ringBytes)) as { version: number; vnodesPerGroup: number; groups: Record<string, unknown> };
  t.equal(ring.version, 0, 'a fresh ring has version 0');
  t.same(ring.groups, {}, 'a fresh ring has no groups');
  const config = JSON.parse(decode((await client.getData('/cluster/config')).data)) as { vnodesPerGroup: number };
  t.ok(Number.isInteger(config.vnodesPerGroup) && config.vnodesPerGroup > 0, 'cluster config names vnodes per group');
  t.equal(ring.vnodesPerGroup, config.vnodesPerGroup, 'the ring uses the configured vnodes per group');
  const groups = await client.getChildren('/groups');
  t.same(groups.children, [], '/groups exists and is empty');
  t.ok((await client.getChildren('/')).children.includes('cluster'), '/cluster is a child of the root');
});

t.test('create, getData, setData and delete keep ZooKeeper stat fields and versions', async (t) => {
  await client.create('/crud', text(''));
  const created = await client.create('/crud/a', text('one'));
  t.equal(created.path, '/crud/a');
  const s0 = created.stat;
  t.equal(s0.version, 0);
  t.equal(s0.czxid, s0.mzxid, 'mzxid equals czxid before any set');
  t.equal(s0.pzxid, s0.czxid, 'pzxid equals czxid before any child change');
  t.equal(s0.dataLength, 3);
  t.equal(s0.numChildren, 0);
  t.equal(s0.ephemeralOwner, 0);
  t.equal(s0.aversion, 0);

  const read = await client.getData('/crud/a');
  t.equal(decode(read.data), 'one');
  t.same(read.stat, s0, 'a read returns the stat the create returned');

  const s1 = await client.setData('/crud/a', text('two!'), 0);
  t.equal(s1.version, 1, 'a conditional set bumps the version');
  t.ok(s1.mzxid > s0.mzxid, 'a set moves mzxid forward');
  t.equal(s1.czxid, s0.czxid, 'a set keeps czxid');
  t.equal(s1.dataLength, 4);
  t.ok(s1.mtime >= s0.ctime && s1.ctime === s0.ctime, 'mtime moves, ctime stays');
  const s2 = await client.setData('/crud/a', text('three'));
  t.equal(s2.version, 2, 'an unconditional set (-1) bumps the version too');
  t.equal(decode((await client.getData('/crud/a')).data), 'three');

  const parent = await client.exists('/crud');
  t.equal(parent?.numChildren, 1);
  t.equal(parent?.cversion, 1, 'one child create = cversion 1');
  t.equal(parent?.pzxid, s0.czxid, 'parent pzxid is the child create');

  await client.delete('/crud/a', 2);
  t.equal(await client.exists('/crud/a'), null, 'deleted node no longer exists');
  const after = await client.exists('/crud');
  t.equal(after?.numChildren, 0);
  t.equal(after?.cversion, 2, 'a child delete moves cversion too');
  t.ok((after?.pzxid ?? 0) > s2.mzxid, 'the delete moved the parent pzxid');
});

t.test('errors arrive with their codes: NODE_EXISTS, NO_NODE, BAD_VERSION, NOT_EMPTY', async (t) => {
  await client.create('/errs', text(''));
  await client.create('/errs/x', text('x'));
  await t.rejects(client.create('/errs/x', text('again')), { code: 'NODE_EXISTS' });
  await t.rejects(client.getData('/errs/missing'), { code: 'NO_NODE' });
  await t.rejects(client.setData('/errs/missing', text('v')), { code: 'NO_NODE' });
  await t.rejects(client.delete('/errs/missing'), { code: 'NO_NODE' });
  await t.rejects(client.create('/errs/no/parent', text('v')), { code: 'NO_NODE' });
  await t.rejects(client.setData('/errs/x', text('v'), 5), { code: 'BAD_VERSION' });
  await t.rejects(client.delete('/errs/x', 7), { code: 'BAD_VERSION' });
  await t.rejects(client.delete('/errs'), { code: 'NOT_EMPTY' });
  t.equal(decode((await client.getData('/errs/x')).data), 'x', 'failed writes changed nothing');
  t.equal((await client.exists('/errs/x'))?.version, 0);
});

t.test('sequential nodes are numbered from the parent counter with 10 digits', async (t) => {
  await client.create('/seq', text(''));
  const names: string[] = [];
  for (let i = 0; i < 3; i++) names.push((await client.create('/seq/job-', text(String(i)), 'persistent_sequential')).path);
  t.same(names, ['/seq/job-0000000000', '/seq/job-0000000001', '/seq/job-0000000002']);
  await client.create('/seq/plain', text(''));
  const concurrent = await Promise.all(Array.from({ length: 8 }, (_, i) => client.create('/seq/job-', text(`c${i}`), 'persistent_sequential')));
  const numbers = concurrent.map((created) => Number(created.path.slice('/seq/job-'.length))).sort((a, b) => a - b);
  t.same(numbers, [4, 5, 6, 7, 8, 9, 10, 11], 'pipelined sequential creates get distinct consecutive numbers after the plain create');
  const { children } = await client.getChildren('/seq');
  t.equal(children.length, 12);
});

t.test('multi is all or nothing', async (t) => {
  await client.create('/multi', text(''));
  await client.create('/multi/counter', text('0'));
  const ok = await client.multi([
    { op: 'check', path: '/multi/counter', version: 0 },
    { op: 'create', path: '/multi/a', data: text('a'), mode: 'persistent' },
    { op: 'create', path: '/multi/a/child', data: text('c'), mode: 'persistent' },
    { op: 'setData', path: '/multi/counter', data: text('1'), version: 0 },
  ]);
  t.equal(ok.type, 'multi');
  if (ok.type === 'multi') t.same(ok.results.map((result) => result.type), ['check', 'create', 'create', 'setData']);
  t.equal(decode((await client.getData('/multi/a/child')).data), 'c');
  const counter = await client.getData('/multi/counter');
  t.equal(decode(counter.data), '1');
  t.equal(counter.stat.version, 1);

  const failed = await client.multi([
    { op: 'create', path: '/multi/b', data: text('b'), mode: 'persistent' },
    { op: 'setData', path: '/multi/counter', data: text('2'), version: 0 },
    { op: 'delete', path: '/multi/a/child', version: -1 },
  ]).then(() => undefined, (err: unknown) => err as { code: string; details?: { failedIndex: number; results: MultiOpFailure[] } });
  t.equal(failed?.code, 'MULTI_FAILED');
  t.equal(failed?.details?.failedIndex, 1);
  t.same(failed?.details?.results.map((result) => result.status), ['rolled_back', 'failed', 'not_run']);
  t.equal(await client.exists('/multi/b'), null, 'the create of a failed multi was not applied');
  t.not(await client.exists('/multi/a/child'), null, 'the delete of a failed multi was not applied');
  t.equal((await client.getData('/multi/counter')).stat.version, 1);
});

t.test('sequential and stale reads return data; a sequential read after a write sees it', async (t) => {
  await client.create('/consistency', text(''));
  // Rounds of write-then-sequential-read: the read may land on any replica, each must see the write.
  for (let i = 0; i < 20; i++) {
    await client.setData('/consistency', text(`v${i}`));
    const read = await client.getData('/consistency', { consistency: 'sequential' });
    t.equal(decode(read.data), `v${i}`, `sequential read ${i} sees the write before it`);
  }
  const other = await cluster.client();
  const stale = await waitForValue(other, '/consistency', 'v19');
  t.equal(stale, 'v19', 'a stale read returns the data once its replica applied it');
  const children = await other.getChildren('/', { consistency: 'sequential' });
  t.ok(children.children.includes('consistency'));
  t.not(await other.exists('/consistency', { consistency: 'stale' }), null);
  t.equal(await other.exists('/consistency/missing', { consistency: 'stale' }), null);
});

t.test('every replica applies the same writes (zxid and node count agree)', async (t) => {
  const { status } = await cluster.leader();
  for (const id of cluster.nodeIds) {
    const replica = await cluster.caughtUp(id, status.appliedZxid);
    t.equal(replica.appliedZxid, status.appliedZxid, `${id} applied exactly the leader's zxid`);
    t.equal(replica.nodeCount, status.nodeCount, `${id} holds as many nodes as the leader`);
  }
});

async function waitForNode(path: string): Promise<{ data: Uint8Array }> {
  return waitFor(`${path} to exist`, async () => (await client.exists(path)) === null ? undefined : client.getData(path), 10_000, 50);
}

async function waitForValue(reader: typeof client, path: string, expected: string): Promise<string> {
  return waitFor(`${path} = ${expected} on a stale read`, async () => {
    const value = decode((await reader.getData(path, { consistency: 'stale' })).data);
    return value === expected ? value : undefined;
  }, 10_000, 20);
}
