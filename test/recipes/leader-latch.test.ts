/** LeaderLatch (Curator's LeaderLatch) over a whole embedded cluster. */
import t from 'tap';
import { LeaderLatch } from '../../client/recipes/index.js';
import { startEmbeddedCluster } from '../support/embedded-cluster.js';
import { waitFor } from '../support/wait.js';
import { openCuttableSession, openSessions } from './sessions.js';

const cluster = await startEmbeddedCluster(t);

function recordEvents(latch: LeaderLatch): string[] {
  const events: string[] = [];
  latch.addListener({ isLeader: () => events.push('isLeader'), notLeader: () => events.push('notLeader') });
  return events;
}

t.test('exactly one participant leads, and closing the leader hands leadership to the next', async (t) => {
  const sessions = await openSessions(t, cluster.routerUrl, 3);
  const latches = sessions.map((session, i) => new LeaderLatch(session, '/election/close', `p${i}`));
  const events = latches.map(recordEvents);
  t.teardown(() => Promise.all(latches.map((latch) => latch.close().catch(() => undefined))));
  for (const latch of latches) await latch.start();
  const first = await waitFor('one leader', () => latches.find((latch) => latch.hasLeadership), 10_000);
  t.equal(latches.filter((latch) => latch.hasLeadership).length, 1, 'only one leads');
  t.equal((await first.getLeader())?.id, first.id, 'getLeader names it');
  t.same((await first.getParticipants()).map((p) => p.id).sort(), ['p0', 'p1', 'p2'], 'every participant is listed');
  t.same(events[latches.indexOf(first)], ['isLeader'], 'the leader heard isLeader');
  await first.close();
  t.same(events[latches.indexOf(first)], ['isLeader', 'notLeader'], 'the closed leader heard notLeader');
  const rest = latches.filter((latch) => latch !== first);
  const second = await waitFor('a new leader', () => rest.find((latch) => latch.hasLeadership), 10_000);
  t.equal(rest.filter((latch) => latch.hasLeadership).length, 1, 'one new leader');
  t.equal(await second.await(1_000), true, 'await() resolves for the leader');
  const follower = rest.find((latch) => latch !== second)!;
  t.equal(await follower.await(200), false, 'await() times out for a follower');
  t.same(events[latches.indexOf(follower)], [], 'the follower heard nothing');
});

t.test("the leader's session expiry hands leadership to the next, and the old leader hears notLeader", async (t) => {
  const { session: expiring, proxy } = await openCuttableSession(t, cluster.routerUrl);
  const [healthy] = await openSessions(t, cluster.routerUrl, 1);
  const leader = new LeaderLatch(expiring, '/election/expiry', 'old');
  const next = new LeaderLatch(healthy!, '/election/expiry', 'next');
  t.teardown(() => Promise.all([leader.close(), next.close()].map((p) => p.catch(() => undefined))));
  const leaderEvents = recordEvents(leader);
  await leader.start();
  t.equal(await leader.await(10_000), true, 'the first participant leads');
  await next.start();
  t.equal(next.hasLeadership, false);
  proxy.cut();
  t.equal(await next.await(20_000), true, 'the next participant leads after the expiry');
  await waitFor('the old leader to hear notLeader', () => leaderEvents.includes('notLeader'), 10_000);
  t.same(leaderEvents, ['isLeader', 'notLeader']);
  t.equal(leader.state, 'lost', 'the old latch is lost');
  t.equal((await next.getLeader())?.id, 'next');
});
