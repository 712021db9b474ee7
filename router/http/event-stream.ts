/**
 * A session's watch events as Server-Sent Events on a raw HTTP response:
 *   data: {"type":"NodeDataChanged","path":"/a","zxid":12}\n\n   one per watch event
 *   : keepalive\n\n                                              every keepalive_ms
 *   event: end\ndata: {"reason":"session_closed"}\n\n           when the session closes or expires
 * The stream stops when the client disconnects or the server closes (`signal` aborts).
 */
import type { ServerResponse } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import type { SessionWatchEvent } from './backend.js';

/** Starts a Server-Sent Events response: its headers, and a first comment that sends them now. */
export function openEventStream(response: ServerResponse): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // Proxies such as nginx would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  response.write(': open\n\n');
}

export async function pipeEventStream(
  events: AsyncIterable<SessionWatchEvent>,
  response: ServerResponse,
  options: { keepalive_ms: number; signal: AbortSignal; log: FastifyBaseLogger },
): Promise<void> {
  openEventStream(response);
  const keepalive = setInterval(() => response.write(': keepalive\n\n'), options.keepalive_ms);
  try {
    for await (const event of events) {
      if (options.signal.aborted || response.destroyed) break;
      const body = { type: event.type, path: event.path, zxid: event.zxid, ...(event.group === undefined ? {} : { group: event.group }) };
      response.write(`data: ${JSON.stringify(body)}\n\n`);
    }
    if (!options.signal.aborted && !response.destroyed) {
      response.write('event: end\ndata: {"reason":"session_closed"}\n\n');
    }
  } catch (err) {
    options.log.error({ err }, 'session event stream failed');
  } finally {
    clearInterval(keepalive);
    response.end();
  }
}
