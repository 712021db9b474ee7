import t from 'tap';
import { parseEventStream, type ServerSentEvent } from '../../client/event-stream-parser.js';

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function parse(chunks: string[]): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of parseEventStream(streamOf(chunks))) events.push(event);
  return events;
}

t.test('frames split across chunks are joined', async (t) => {
  t.same(await parse(['da', 'ta: {"a"', ':1}\n', '\n']), [{ event: 'message', data: '{"a":1}' }]);
});

t.test('comments are skipped and named events keep their name', async (t) => {
  t.same(await parse([': keepalive\n\n', 'event: end\ndata: {}\n\n']), [{ event: 'end', data: '{}' }]);
});

t.test('CRLF line ends and multi-line data', async (t) => {
  t.same(await parse(['data: one\r\ndata: two\r\n\r\n']), [{ event: 'message', data: 'one\ntwo' }]);
});

t.test('a frame without a blank line at the end of the stream is not dispatched', async (t) => {
  t.same(await parse(['data: complete\n\ndata: cut']), [{ event: 'message', data: 'complete' }]);
});
