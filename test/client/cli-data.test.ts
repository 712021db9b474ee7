import { Readable } from 'node:stream';
import t from 'tap';
import { createDataCommands, type DataCommandIo } from '../../cli/data/index.js';
import { parseFlags, UsageError } from '../../cli/flags.js';
import { waitFor } from '../support/wait.js';
import { startLiveRouter } from './live-router.js';

interface Captured {
  io: DataCommandIo;
  stdout(): string;
  stdoutBytes(): Buffer;
  stderr(): string;
  interrupt(): void;
}

function captureIo(stdin = ''): Captured {
  const out: Buffer[] = [];
  let err = '';
  const interrupter = new AbortController();
  return {
    io: {
      stdout: { write: (chunk: string | Uint8Array) => out.push(Buffer.from(chunk)) },
      stderr: { write: (chunk: string) => (err += chunk) },
      stdin: Readable.from([Buffer.from(stdin)]),
      interrupt: () => ({ signal: interrupter.signal, release: () => {} }),
    },
    stdout: () => Buffer.concat(out).toString('utf8'),
    stdoutBytes: () => Buffer.concat(out),
    stderr: () => err,
    interrupt: () => interrupter.abort(),
  };
}

/** Runs `shardkv <argv>` as cli/main.ts would, with the router URL from the environment. */
async function run(url: string, argv: string[], captured = captureIo()): Promise<{ status: number; out: Captured }> {
  const [name, ...rest] = argv;
  const command = createDataCommands(captured.io).find((candidate) => candidate.name === name);
  if (command === undefined) throw new Error(`no command ${name}`);
  const { flags, positional } = parseFlags(rest, command.flags, { SHARDKV_ROUTER: url });
  return { status: await command.run(flags, positional), out: captured };
}

t.test('create then get prints the data; --json prints the node', async (t) => {
  const { url } = await startLiveRouter(t);
  const created = await run(url, ['create', '/cli/a', 'hello']);
  t.equal(created.status, 0);
  t.equal(created.out.stdout(), 'created /cli/a\n');
  const got = await run(url, ['get', '/cli/a']);
  t.equal(got.out.stdout(), 'hello\n');
  const json = await run(url, ['get', '/cli/a', '--json']);
  t.match(JSON.parse(json.out.stdout()), { path: '/cli/a', data: 'hello', encoding: 'utf8', stat: { version: 0 } });
});

t.test('get --stat prints the stat after the data', async (t) => {
  const { url } = await startLiveRouter(t);
  await run(url, ['create', '/cli/s', 'x']);
  const got = await run(url, ['get', '/cli/s', '--stat']);
  t.match(got.out.stdout(), /^x\nczxid +\d+\n/);
  t.match(got.out.stdout(), /dataLength +1\n/);
});

t.test('get writes binary data byte for byte', async (t) => {
  const { url, client } = await startLiveRouter(t);
  await client.create('/cli/bin', new Uint8Array([0, 200, 255]));
  const got = await run(url, ['get', '/cli/bin']);
  t.same([...got.out.stdoutBytes()], [0, 200, 255]);
});

t.test('set takes the data from stdin when no argument is given', async (t) => {
  const { url, client } = await startLiveRouter(t);
  await client.create('/cli/in', 'old');
  const set = await run(url, ['set', '/cli/in'], captureIo('from stdin'));
  t.equal(set.status, 0);
  t.equal(set.out.stdout(), 'set /cli/in (version 1)\n');
  t.equal((await client.get('/cli/in')).text, 'from stdin');
});

t.test('create --mode sequential prints the created path', async (t) => {
  const { url } = await startLiveRouter(t);
  const created = await run(url, ['create', '/cli/q/n-', '--mode', 'sequential', '--json']);
  t.equal(JSON.parse(created.out.stdout()).path, '/cli/q/n-0000000000');
});

t.test('ls lists the children and rm deletes a node', async (t) => {
  const { url, client } = await startLiveRouter(t);
  await client.create('/cli/d/x');
  await client.create('/cli/d/y');
  t.equal((await run(url, ['ls', '/cli/d'])).out.stdout(), 'x\ny\n');
  const removed = await run(url, ['rm', '/cli/d/x']);
  t.equal(removed.out.stdout(), 'deleted /cli/d/x\n');
  t.same(JSON.parse((await run(url, ['ls', '/cli/d', '--json'])).out.stdout()).children, ['y']);
});

t.test('a server error prints code and message on stderr and exits 1', async (t) => {
  const { url } = await startLiveRouter(t);
  const missing = await run(url, ['get', '/cli/none']);
  t.equal(missing.status, 1);
  t.match(missing.out.stderr(), /^shardkv get: NO_NODE: .*\/cli\/none/);
  t.equal(missing.out.stdout(), '');
  await run(url, ['create', '/cli/v']);
  const stale = await run(url, ['set', '/cli/v', 'x', '--version', '5']);
  t.equal(stale.status, 1);
  t.match(stale.out.stderr(), /BAD_VERSION/);
});

t.test('an unreachable router exits 1 with CONNECTION_LOSS', async (t) => {
  const result = await run('http://127.0.0.1:1', ['ls', '/']);
  t.equal(result.status, 1);
  t.match(result.out.stderr(), /CONNECTION_LOSS/);
});

t.test('usage errors are UsageError (exit 2 in cli/main.ts)', async (t) => {
  const { url } = await startLiveRouter(t);
  await t.rejects(run(url, ['get']), UsageError, 'missing path');
  await t.rejects(run(url, ['rm', '/a', '/b']), UsageError, 'extra argument');
  await t.rejects(run(url, ['create', '/a', '--mode', 'forever']), UsageError, 'unknown mode');
  await t.rejects(run(url, ['rm', '/a', '--version', '-3']), UsageError, 'bad version');
  await t.rejects(run(url, ['rm', '/a', '--version', 'abc']), UsageError, 'non-numeric version');
  await t.rejects(run(url, ['ls', '/', '--router', 'localhost:7070']), UsageError, 'router without scheme');
});

t.test('ring prints the groups with their token counts', async (t) => {
  const { url } = await startLiveRouter(t);
  const ring = await run(url, ['ring']);
  t.equal(ring.status, 0);
  t.match(ring.out.stdout(), /^ring version 2, 4 tokens per group\ngroup +state +tokens +share\ng1 +active +4 +\d+\.\d%\ng2 +active +4 +\d+\.\d%\n$/);
  t.equal(JSON.parse((await run(url, ['ring', '--json'])).out.stdout()).tokens.length, 8);
});

t.test('watch prints each change and re-arms until --count events', async (t) => {
  const { url, client, backend } = await startLiveRouter(t);
  await client.create('/cli/w', 'v0');
  const captured = captureIo();
  const watching = run(url, ['watch', '/cli/w', '--count', '2'], captured);
  await waitFor('the watch to be armed', () => captured.stderr().includes('watching /cli/w'), 5000);
  await client.set('/cli/w', 'v1');
  await waitFor('the first event', () => captured.stdout().includes('NodeDataChanged'), 5000);
  // The first event spent the one-shot watch; the command sets a new one after printing.
  await waitFor('the re-arm', () => backend.tree.watchCount === 1, 5000);
  await client.delete('/cli/w');
  const { status } = await watching;
  t.equal(status, 0);
  const lines = captured.stdout().trim().split('\n');
  t.equal(lines.length, 2);
  t.match(lines[0], /^NodeDataChanged \/cli\/w zxid=\d+$/);
  t.match(lines[1], /^NodeDeleted \/cli\/w zxid=\d+$/);
});

t.test('watch stops on Ctrl-C and closes its session', async (t) => {
  const { url, backend } = await startLiveRouter(t);
  const captured = captureIo();
  const watching = run(url, ['watch', '/cli/nothing', '--children'], captured);
  await waitFor('the watch to be armed', () => captured.stderr().includes('(children)'), 5000);
  captured.interrupt();
  t.equal((await watching).status, 0);
  t.equal(backend.callCount('closeSession'), 1);
});
