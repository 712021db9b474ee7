/**
 * Transport benchmark: request/reply round trips over the in-process bus and over a real
 * nats-server (started here, stopped after), side by side in one run, with 1 and 64
 * requests in flight; and the cost of the msgpack codec on a message with a 256-byte value.
 * `npm run bench -- --only net [--duration-ms 2000]`
 */
import { createLogger } from '../logging/logger.js';
import { decodeMessage, encodeMessage } from '../net/codec.js';
import { InProcessBus } from '../net/in-process.js';
import { connectNats } from '../net/nats.js';
import type { Transport } from '../net/transport.js';
import { startNatsServer } from '../test/support/nats-server.js';
import { markdownTable, type BenchSection } from './results.js';

interface RoundTrips {
  transport: string;
  in_flight: number;
  ops_per_s: number;
  p50_ms: number;
  p99_ms: number;
}

const logger = createLogger({ role: 'bench' }, { level: process.env.LOG_LEVEL ?? 'warn' });
const SUBJECT = 'bench.net.echo';
const REQUEST = { op: 'get', path: '/bench/key-000001', data: new Uint8Array(32) };

function percentile(sorted: Float64Array, fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? 0;
}

async function measureRoundTrips(name: string, client: Transport, in_flight: number, duration_ms: number): Promise<RoundTrips> {
  const latencies_ms: number[] = [];
  const started = performance.now();
  const deadline = started + duration_ms;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await client.request(SUBJECT, REQUEST, { timeout_ms: 5000 });
      latencies_ms.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: in_flight }, worker));
  const elapsed_s = (performance.now() - started) / 1000;
  const sorted = Float64Array.from(latencies_ms).sort();
  return {
    transport: name,
    in_flight,
    ops_per_s: latencies_ms.length / elapsed_s,
    p50_ms: percentile(sorted, 0.5),
    p99_ms: percentile(sorted, 0.99),
  };
}

async function benchTransport(name: string, client: Transport, server: Transport, duration_ms: number): Promise<RoundTrips[]> {
  server.serve(SUBJECT, (request) => ({ ok: true, size: (request as typeof REQUEST).data.length }));
  await server.flush();
  await measureRoundTrips(name, client, 8, Math.min(300, duration_ms)); // warm-up (JIT, sockets)
  return [
    await measureRoundTrips(name, client, 1, duration_ms),
    await measureRoundTrips(name, client, 64, duration_ms),
  ];
}

function measureCodec(iterations: number): Array<[string, number]> {
  const message = { op: 'set', path: '/bench/key-000001', data: new Uint8Array(256).fill(7), version: -1, ringVersion: 12, epoch: 3 };
  const time_ns = (work: () => void) => {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iterations; i += 1) work();
    return Number(process.hrtime.bigint() - t0) / iterations;
  };
  const frame = encodeMessage(message);
  const json = JSON.stringify({ ...message, data: Buffer.from(message.data).toString('base64') });
  const jsonRoundTrip = () => {
    const text = JSON.stringify({ ...message, data: Buffer.from(message.data).toString('base64') });
    const parsed = JSON.parse(text) as { data: string };
    Buffer.from(parsed.data, 'base64');
  };
  time_ns(() => decodeMessage(encodeMessage(message))); // warm-up
  return [
    [`msgpack encode (${frame.length} bytes)`, time_ns(() => encodeMessage(message))],
    ['msgpack decode', time_ns(() => decodeMessage(frame))],
    ['msgpack encode + decode', time_ns(() => decodeMessage(encodeMessage(message)))],
    [`JSON + base64 encode + decode (${json.length} bytes), for comparison`, time_ns(jsonRoundTrip)],
  ];
}

function durationFrom(args: string[]): number {
  const at = args.indexOf('--duration-ms');
  const value = at >= 0 ? Number(args[at + 1]) : 2000;
  return Number.isFinite(value) && value > 0 ? value : 2000;
}

export default async function netBench(options: { args: string[] }): Promise<BenchSection[]> {
  const duration_ms = durationFrom(options.args);
  const results: RoundTrips[] = [];

  const bus = new InProcessBus();
  const [localClient, localServer] = [bus.connect({ logger }), bus.connect({ logger })];
  try {
    results.push(...(await benchTransport('in-process', localClient, localServer, duration_ms)));
  } finally {
    await Promise.all([localClient.close(), localServer.close()]);
  }

  const natsServer = await startNatsServer();
  try {
    const client = await connectNats({ servers: natsServer.url, logger, name: 'bench-client' });
    const server = await connectNats({ servers: natsServer.url, logger, name: 'bench-server' });
    try {
      results.push(...(await benchTransport('nats', client, server, duration_ms)));
    } finally {
      await Promise.all([client.close(), server.close()]);
    }
  } finally {
    await natsServer.stop();
  }

  const rate = (transport: string, in_flight: number) =>
    results.find((r) => r.transport === transport && r.in_flight === in_flight)?.ops_per_s ?? Number.NaN;
  const ratios = [1, 64].map((in_flight) =>
    `- ${in_flight} in flight: in-process is ${(rate('in-process', in_flight) / rate('nats', in_flight)).toFixed(1)}x NATS in round trips per second.`);
  const codec = measureCodec(200_000);
  const msgpackBoth = codec[2]?.[1] ?? Number.NaN;
  const jsonBoth = codec[3]?.[1] ?? Number.NaN;

  const markdown = [
    `Request/reply of a 32-byte-value request, echo responder, requester and responder in this process`,
    `(NATS: two connections to a local nats-server on the same machine), ${duration_ms} ms per row.`,
    '',
    markdownTable(
      ['transport', 'in flight', 'round trips/s', 'p50 ms', 'p99 ms'],
      results.map((r) => [r.transport, r.in_flight, Math.round(r.ops_per_s), r.p50_ms.toFixed(3), r.p99_ms.toFixed(3)]),
    ),
    '',
    ...ratios,
    '',
    'Codec, a set request with a 256-byte value (`{op, path, data, version, ringVersion, epoch}`), 200 000 iterations:',
    '',
    markdownTable(['operation', 'ns/op'], codec.map(([what, ns]) => [what, Math.round(ns)])),
    '',
    `- msgpack encode + decode is ${(jsonBoth / msgpackBoth).toFixed(1)}x faster than JSON with base64 data.`,
  ].join('\n');
  return [{ id: 'net', title: 'Transport: request/reply and codec (net/)', markdown }];
}
