import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { openSession, startHarness } from './harness.js';

interface BadCase {
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  payload?: string | Buffer;
  contentType?: string;
  status: number;
  code: string;
  message?: RegExp;
}

const MAX_DATA_BYTES = 1000;

const cases: BadCase[] = [
  { name: 'empty component', method: 'GET', url: '/v1/nodes/a//b', status: 400, code: 'BAD_PATH', message: /empty component/ },
  { name: 'trailing slash', method: 'POST', url: '/v1/nodes/a/', status: 400, code: 'BAD_PATH', message: /ends with/ },
  { name: 'NUL via %00', method: 'POST', url: '/v1/nodes/a%00b', status: 400, code: 'BAD_PATH', message: /NUL/ },
  { name: 'path over 4 KiB', method: 'POST', url: `/v1/nodes/${'a'.repeat(4100)}`, status: 400, code: 'BAD_PATH', message: /more than the limit of 4096/ },
  { name: 'undecodable percent escape', method: 'GET', url: '/v1/nodes/%E2%82', status: 400, code: 'BAD_ARGUMENTS' },
  { name: 'non-numeric version', method: 'PUT', url: '/v1/nodes/a?version=abc', status: 400, code: 'BAD_ARGUMENTS', message: /version must be integer/ },
  { name: 'fractional version', method: 'DELETE', url: '/v1/nodes/a?version=1.5', status: 400, code: 'BAD_ARGUMENTS', message: /version/ },
  { name: 'version below -1', method: 'DELETE', url: '/v1/nodes/a?version=-2', status: 400, code: 'BAD_ARGUMENTS', message: /version must be >= -1/ },
  { name: 'negative ttl', method: 'POST', url: '/v1/nodes/a?mode=ttl&ttl=-5', status: 400, code: 'BAD_ARGUMENTS', message: /ttl must be >= 1/ },
  { name: 'ttl mode without ttl', method: 'POST', url: '/v1/nodes/a?mode=ttl', status: 400, code: 'BAD_ARGUMENTS', message: /needs ttl/ },
  { name: 'ttl with a non-ttl mode', method: 'POST', url: '/v1/nodes/a?ttl=100', status: 400, code: 'BAD_ARGUMENTS', message: /only for the ttl modes/ },
  { name: 'unknown mode', method: 'POST', url: '/v1/nodes/a?mode=forever', status: 400, code: 'BAD_ARGUMENTS', message: /mode must be equal to one of the allowed values/ },
  { name: 'ephemeral without session', method: 'POST', url: '/v1/nodes/a?mode=ephemeral', status: 400, code: 'BAD_ARGUMENTS', message: /needs session/ },
  { name: 'watch without session', method: 'GET', url: '/v1/nodes/a?watch=1', status: 400, code: 'BAD_ARGUMENTS', message: /needs session/ },
  { name: 'bad watch flag', method: 'GET', url: '/v1/children/a?watch=yes', status: 400, code: 'BAD_ARGUMENTS' },
  { name: 'unknown consistency', method: 'GET', url: '/v1/nodes/a?consistency=eventual', status: 400, code: 'BAD_ARGUMENTS' },
  { name: 'malformed session id', method: 'POST', url: '/v1/sessions/abc/keepalive', status: 400, code: 'BAD_ARGUMENTS' },
  { name: 'session id of 2^53', method: 'POST', url: '/v1/sessions/9007199254740992/keepalive', status: 400, code: 'BAD_ARGUMENTS', message: /below 2\^53/ },
  { name: 'unknown session keepalive', method: 'POST', url: '/v1/sessions/12345/keepalive', status: 404, code: 'SESSION_EXPIRED' },
  { name: 'unknown session close', method: 'DELETE', url: '/v1/sessions/12345', status: 404, code: 'SESSION_EXPIRED' },
  { name: 'unknown session events', method: 'GET', url: '/v1/sessions/12345/events', status: 404, code: 'SESSION_EXPIRED' },
  { name: 'ephemeral of an unknown session', method: 'POST', url: '/v1/nodes/a?mode=ephemeral&session=777', status: 404, code: 'SESSION_EXPIRED' },
  { name: 'oversize data', method: 'POST', url: '/v1/nodes/big', payload: Buffer.alloc(MAX_DATA_BYTES + 1), contentType: 'application/octet-stream', status: 413, code: 'DATA_TOO_LARGE', message: /1001 bytes, more than the limit of 1000/ },
  { name: 'data far over the body limit', method: 'PUT', url: '/v1/nodes/big', payload: Buffer.alloc(MAX_DATA_BYTES * 10), contentType: 'application/octet-stream', status: 413, code: 'DATA_TOO_LARGE' },
  { name: 'malformed JSON in /v1/multi', method: 'POST', url: '/v1/multi', payload: '{"ops": [', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS', message: /not valid JSON/ },
  { name: 'malformed JSON in /v1/sessions', method: 'POST', url: '/v1/sessions', payload: '{timeout_ms: 5}', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS', message: /not valid JSON/ },
  { name: 'empty JSON body in /v1/sessions', method: 'POST', url: '/v1/sessions', payload: '', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS' },
  { name: 'non-JSON body in /v1/sessions', method: 'POST', url: '/v1/sessions', payload: 'timeout=5', contentType: 'text/plain', status: 400, code: 'BAD_ARGUMENTS' },
  { name: 'session timeout below the minimum', method: 'POST', url: '/v1/sessions', payload: '{"timeout_ms": 1}', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS', message: /timeout_ms must be >= 100/ },
  { name: 'session body without a timeout', method: 'POST', url: '/v1/sessions', payload: '{}', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS' },
  { name: 'multi without ops', method: 'POST', url: '/v1/multi', payload: '{}', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS', message: /ops/ },
  { name: 'multi with an empty op list', method: 'POST', url: '/v1/multi', payload: '{"ops": []}', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS' },
  { name: 'multi with an unknown op', method: 'POST', url: '/v1/multi', payload: '{"ops": [{"op": "rename", "path": "/a"}]}', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS' },
  { name: 'multi op with a misspelt key', method: 'POST', url: '/v1/multi', payload: '{"ops": [{"op": "delete", "path": "/a", "verison": 1}]}', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS', message: /additional properties/ },
  { name: 'multi op with a bad path', method: 'POST', url: '/v1/multi', payload: '{"ops": [{"op": "create", "path": "a/b"}]}', contentType: 'application/json', status: 400, code: 'BAD_PATH' },
  { name: 'multi op with bad base64', method: 'POST', url: '/v1/multi', payload: '{"ops": [{"op": "create", "path": "/a", "data": "%%%", "encoding": "base64"}]}', contentType: 'application/json', status: 400, code: 'BAD_ARGUMENTS', message: /base64/ },
  { name: 'multi op with oversize data', method: 'POST', url: '/v1/multi', payload: JSON.stringify({ ops: [{ op: 'create', path: '/a', data: 'x'.repeat(MAX_DATA_BYTES + 1) }] }), contentType: 'application/json', status: 413, code: 'DATA_TOO_LARGE' },
  { name: 'unknown route', method: 'GET', url: '/v2/nodes/a', status: 404, code: 'UNKNOWN_ROUTE' },
  { name: 'unknown method on a node', method: 'POST', url: '/v1/children/a', status: 404, code: 'UNKNOWN_ROUTE' },
];

t.test('bad input answers a clear 4xx with a code and never reaches the backend wrongly', async (t) => {
  const { app, backend } = await startHarness(t, { maxDataBytes: MAX_DATA_BYTES });
  for (const c of cases) {
    const response = await app.inject({
      method: c.method,
      url: c.url,
      ...(c.payload === undefined ? {} : { payload: c.payload }),
      ...(c.contentType === undefined ? {} : { headers: { 'content-type': c.contentType } }),
    });
    t.equal(response.statusCode, c.status, `${c.name}: status`);
    const body = response.json() as { code: string; message: string };
    t.equal(body.code, c.code, `${c.name}: code (${body.message})`);
    t.type(body.message, 'string', `${c.name}: message`);
    if (c.message !== undefined) t.match(body.message, c.message, `${c.name}: message text`);
  }
  t.equal(backend.callCount('set'), 0, 'no set reached the backend');
  t.equal(backend.callCount('multi'), 0, 'no multi reached the backend');
  t.equal(backend.callCount('openSession'), 0, 'no session was opened');
});

t.test('a ".." component answers 400 BAD_PATH (sent as is over a real socket)', async (t) => {
  const { app } = await startHarness(t);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  for (const path of ['/v1/nodes/a/../b', '/v1/nodes/a/./b', '/v1/nodes/a/%2E%2E/b']) {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end();
    });
    t.equal(status, 400, `${path}: status`);
    t.equal(JSON.parse(body).code, 'BAD_PATH', `${path}: code`);
    t.match(JSON.parse(body).message, /relative components/, `${path}: message`);
  }
});

t.test('a watch with a session that has expired answers 404 SESSION_EXPIRED', async (t) => {
  const { app } = await startHarness(t);
  const id = await openSession(app);
  await app.inject({ method: 'DELETE', url: `/v1/sessions/${id}` });
  const response = await app.inject({ url: `/v1/exists/a?watch=1&session=${id}` });
  t.equal(response.statusCode, 404);
  t.equal(response.json().code, 'SESSION_EXPIRED');
});

t.test('an unexpected exception answers 500 INTERNAL and logs its stack', async (t) => {
  const { app, backend, logLines } = await startHarness(t);
  backend.failWith = new TypeError('boom in the backend');
  const response = await app.inject({ url: '/v1/nodes/a' });
  t.equal(response.statusCode, 500);
  t.equal(response.json().code, 'INTERNAL');
  t.notMatch(response.json().message, /boom/, 'the client does not see internals');
  const logged = logLines.find((line) => line.msg === 'unhandled error in router HTTP request');
  t.ok(logged, 'the error is logged');
  t.match((logged?.err as { stack?: string } | undefined)?.stack, /boom in the backend/);
  backend.failWith = undefined;
  t.equal((await app.inject({ url: '/v1/ring' })).statusCode, 200, 'the server keeps answering');
});

t.test('a backend call that never answers is 504 TIMEOUT after the request deadline', async (t) => {
  const { app, backend } = await startHarness(t, { request_timeout_ms: 200 });
  backend.get = () => new Promise(() => {});
  const response = await app.inject({ url: '/v1/nodes/a' });
  t.equal(response.statusCode, 504);
  t.equal(response.json().code, 'TIMEOUT');
});

t.test('a body with no content type is taken as raw bytes', async (t) => {
  const { app } = await startHarness(t);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const status = await new Promise<number>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/v1/nodes/raw', method: 'POST', headers: { 'content-length': '3' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end('abc');
  });
  t.equal(status, 201);
  t.equal((await app.inject({ url: '/v1/nodes/raw' })).json().data, 'abc');
});
