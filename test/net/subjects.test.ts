import t from 'tap';
import { subjectMatches } from '../../net/subject-pattern.js';
import { Subjects } from '../../net/subjects.js';

const isBadArguments = { name: 'ShardkvError', code: 'BAD_ARGUMENTS' };

t.test('subjects are built under the cluster prefix', async (t) => {
  const subjects = new Subjects('skv.dev');
  t.equal(subjects.peer('meta', 'm1'), 'skv.dev.peer.meta.m1');
  t.equal(subjects.groupLeader('g-2'), 'skv.dev.g.g-2.leader');
  t.equal(subjects.metaLeader(), 'skv.dev.meta.leader');
  t.equal(subjects.events('router_1'), 'skv.dev.events.router_1');
});

t.test('ids with dots, spaces, wildcards or nothing are refused', async (t) => {
  const subjects = new Subjects('skv');
  for (const id of ['a.b', 'a b', '*', '>', 'a*', '', 'x'.repeat(65)]) {
    t.throws(() => subjects.groupLeader(id), isBadArguments, JSON.stringify(id));
  }
  t.throws(() => subjects.peer('meta', 'm.1'), isBadArguments);
  t.throws(() => subjects.events('r>'), isBadArguments);
});

t.test('a prefix must be dot-separated valid tokens', async (t) => {
  for (const prefix of ['', 'a..b', '.a', 'a.', 'a b', 'a.*']) {
    t.throws(() => new Subjects(prefix), isBadArguments, JSON.stringify(prefix));
  }
});

t.test('wildcard patterns match like NATS subjects', async (t) => {
  t.ok(subjectMatches('a.*.c', 'a.b.c'));
  t.notOk(subjectMatches('a.*.c', 'a.b.d'));
  t.notOk(subjectMatches('a.*', 'a.b.c'));
  t.ok(subjectMatches('a.>', 'a.b.c'));
  t.notOk(subjectMatches('a.>', 'a'));
  t.notOk(subjectMatches('a.b', 'a.b.c'));
});
