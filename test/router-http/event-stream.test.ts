import { get as httpGet, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { waitFor } from '../support/wait.js';
import { openSession, startHarness, type Harness } from './harness.js';

/** Raw SSE frames (text between blank lines) of one stream, read as they arrive. */
class FrameReader {
  readonly frames: string[] = [];
  ended = false;
  private buffer = '';

  constructor(private readonly response: Response) {
    void this.pump();
  }

  private async pump(): Promise<void> {
    const reader = this.response.body!.getReader();
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.buffer += decoder.decode(value, { stream: true });
        let at: number;
        while ((at = this.buffer.indexOf('\n\n')) >= 0) {
          this.frames.push(this.buffer.slice(0, at));
          this.buffer = this.buffer.slice(at + 2);
        }
      }
    } catch {
      // aborted by the test
    } finally {
      this.ended = true;
    }
  }

  dataFrames(): Array<{ type: string; path: string; zxid: number }> {
    return this.frames.filter((frame) => frame.startsWith('data: ')).map((frame) => JSON.parse(frame.slice('data: '.length)));
  }
}

async function listen(harness: Harness): Promise<string> {
  await harness.app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(harness.app.server.address() as AddressInfo).port}`;
}

t.test('the event stream delivers a one-shot data watch exactly once', async (t) => {
  const harness = await startHarness(t);
  const base = await listen(harness);
  const id = await openSession(harness.app);
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const response = await fetch(`${base}/v1/sessions/${id}/events`, { signal: abort.signal });
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /^text\/event-stream/);
  const stream = new FrameReader(response);
  await fetch(`${base}/v1/nodes/watched`, { method: 'POST', body: 'v0' });
  t.equal((await fetch(`${base}/v1/nodes/watched?watch=1&session=${id}`)).status, 200);
  await fetch(`${base}/v1/nodes/watched`, { method: 'PUT', body: 'v1' });
  await waitFor('the watch event', () => stream.dataFrames().length >= 1, 5000);
  t.match(stream.dataFrames()[0], { type: 'NodeDataChanged', path: '/watched' });
  // A second change must not fire the spent watch: the next event is another watch's.
  await fetch(`${base}/v1/nodes/watched`, { method: 'PUT', body: 'v2' });
  t.equal((await fetch(`${base}/v1/exists/other?watch=1&session=${id}`)).status, 200);
  await fetch(`${base}/v1/nodes/other`, { method: 'POST' });
  await waitFor('the second watch event', () => stream.dataFrames().length >= 2, 5000);
  t.same(stream.dataFrames().map((event) => `${event.type} ${event.path}`), ['NodeDataChanged /watched', 'NodeCreated /other']);
});

t.test('a child watch fires NodeChildrenChanged on the stream', async (t) => {
  const harness = await startHarness(t);
  const base = await listen(harness);
  const id = await openSession(harness.app);
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const stream = new FrameReader(await fetch(`${base}/v1/sessions/${id}/events`, { signal: abort.signal }));
  await fetch(`${base}/v1/children/dir?watch=1&session=${id}`);
  await fetch(`${base}/v1/nodes/dir/child`, { method: 'POST' });
  await waitFor('the child event', () => stream.dataFrames().length >= 1, 5000);
  t.match(stream.dataFrames()[0], { type: 'NodeChildrenChanged', path: '/dir' });
});

t.test('the stream sends comment keepalives while idle', async (t) => {
  const harness = await startHarness(t, { sseKeepalive_ms: 50 });
  const base = await listen(harness);
  const id = await openSession(harness.app);
  const abort = new AbortController();
  t.teardown(() => abort.abort());
  const stream = new FrameReader(await fetch(`${base}/v1/sessions/${id}/events`, { signal: abort.signal }));
  await waitFor('two keepalives', () => stream.frames.filter((frame) => frame === ': keepalive').length >= 2, 5000);
  t.equal(stream.dataFrames().length, 0);
});

t.test('the stream ends with an end event when the session closes', async (t) => {
  const harness = await startHarness(t);
  const base = await listen(harness);
  const id = await openSession(harness.app);
  const stream = new FrameReader(await fetch(`${base}/v1/sessions/${id}/events`));
  await waitFor('the stream to open', () => stream.frames.includes(': open'), 5000);
  await fetch(`${base}/v1/sessions/${id}`, { method: 'DELETE' });
  await waitFor('the stream to end', () => stream.ended, 5000);
  t.equal(stream.frames.at(-1), 'event: end\ndata: {"reason":"session_closed"}');
});

t.test('a client that disconnects releases its stream in the backend', async (t) => {
  const harness = await startHarness(t);
  const base = await listen(harness);
  const id = await openSession(harness.app);
  // node:http rather than fetch: an aborted fetch leaves undici's pool holding a spare socket open.
  const request = httpGet(`${base}/v1/sessions/${id}/events`);
  t.teardown(() => request.destroy());
  const response = await new Promise<IncomingMessage>((resolve) => request.on('response', resolve));
  t.equal(response.statusCode, 200);
  await waitFor('the backend stream', () => harness.backend.streamCount(Number(id)) === 1, 5000);
  request.destroy();
  await waitFor('the backend stream to be released', () => harness.backend.streamCount(Number(id)) === 0, 5000);
  t.equal(harness.backend.streamCount(Number(id)), 0);
});

t.test('closing the server ends open event streams instead of waiting for them', async (t) => {
  const harness = await startHarness(t);
  const base = await listen(harness);
  const id = await openSession(harness.app);
  const stream = new FrameReader(await fetch(`${base}/v1/sessions/${id}/events`));
  await waitFor('the stream to open', () => stream.frames.includes(': open'), 5000);
  const closed = harness.app.close().then(() => 'closed');
  const deadline = new Promise((resolve) => setTimeout(resolve, 5000, 'timed out')).then((value) => value);
  t.equal(await Promise.race([closed, deadline]), 'closed');
  await waitFor('the client to see the end', () => stream.ended, 5000);
});
