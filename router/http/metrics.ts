/**
 * Prometheus metrics of one router (prom-client, one Registry per instance so that several
 * routers in one process, as in `shardkv dev` and the tests, do not share counters).
 * The HTTP layer counts requests and their latency; the backend reports MOVED retries and
 * which group leaders it knows through the same object.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface RouterMetrics {
  readonly registry: Registry;
  /** A request to `group` was answered MOVED and retried after a ring refresh. */
  countMovedRetry(group: string): void;
  /** Whether the router currently knows a leader for `group`. */
  setLeaderKnown(group: string, known: boolean): void;
  /** Called by the HTTP layer once per answered request. */
  observeRequest(method: string, route: string, status: number, duration_ms: number): void;
}

const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export function createRouterMetrics(): RouterMetrics {
  const registry = new Registry();
  const requests = new Counter({
    name: 'shardkv_router_http_requests_total',
    help: 'HTTP requests answered, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'shardkv_router_http_request_duration_seconds',
    help: 'HTTP request latency, by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS_SECONDS,
    registers: [registry],
  });
  const movedRetries = new Counter({
    name: 'shardkv_router_moved_retries_total',
    help: 'Requests answered MOVED by a shard group and retried after a ring refresh',
    labelNames: ['group'] as const,
    registers: [registry],
  });
  const leaderKnown = new Gauge({
    name: 'shardkv_router_group_leader_known',
    help: '1 when the router knows a leader for the group, else 0',
    labelNames: ['group'] as const,
    registers: [registry],
  });
  return {
    registry,
    countMovedRetry: (group) => movedRetries.inc({ group }),
    setLeaderKnown: (group, known) => leaderKnown.set({ group }, known ? 1 : 0),
    observeRequest: (method, route, status, duration_ms) => {
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      latency.observe(labels, duration_ms / 1000);
    },
  };
}
