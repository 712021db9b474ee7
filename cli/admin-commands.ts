/**
 * Admin commands against a router's HTTP API:
 *   shardkv group add <id> [--follow]      plan adding a running group to the ring
 *   shardkv group remove <id> [--follow]   drain a group, then take it off the ring
 *   shardkv group list                     the groups, their state, members and leader
 *   shardkv rebalance status [--follow]    the plan with a progress bar per transfer and overall
 * --follow reads the rebalance event stream and redraws until the plan is done or failed.
 */
import type { Command } from './command.js';
import { UsageError, type FlagValues } from './flags.js';
import type { PlanTransfer } from '../router/rebalance/rebalance-plan.js';
import type { RebalanceStatus } from '../router/rebalance/rebalance-admin.js';

const ROUTER_FLAG = { name: 'router', description: 'router URL', kind: 'string', default: 'http://127.0.0.1:7070' } as const;
const JSON_FLAG = { name: 'json', description: 'print JSON instead of human text', kind: 'boolean', default: false } as const;
const FOLLOW_FLAG = { name: 'follow', description: 'follow the rebalance until it is done', kind: 'boolean', default: false } as const;

interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
}

class AdminHttpError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

async function call<T>(router: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${router.replace(/\/+$/, '')}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  const parsed = text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) {
    const error = (parsed ?? {}) as { code?: string; message?: string };
    throw new AdminHttpError(error.code ?? `HTTP_${response.status}`, error.message ?? text);
  }
  return parsed as T;
}

function routerOf(flags: FlagValues): string {
  const url = String(flags.router);
  if (!/^https?:\/\/[^/]+/.test(url)) throw new UsageError(`--router must be an http(s) URL, got '${url}'`);
  return url;
}

// ---------------------------------------------------------------------------------------------
// Progress rendering (pure)

const BAR_WIDTH = 24;

export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const clamped = Math.max(0, Math.min(1, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(clamped * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.floor(clamped * 100)).padStart(3)}%`;
}

export function formatBytes(size_bytes: number): string {
  if (size_bytes < 1024) return `${Math.round(size_bytes)} B`;
  if (size_bytes < 1024 * 1024) return `${(size_bytes / 1024).toFixed(1)} KB`;
  return `${(size_bytes / 1024 / 1024).toFixed(1)} MB`;
}

function transferFraction(transfer: PlanTransfer): number {
  if (['fenced', 'committed', 'dropped'].includes(transfer.state)) return 1;
  if (transfer.keysTotal === 0) return transfer.state === 'tailing' ? 1 : 0;
  return transfer.keysCopied / transfer.keysTotal;
}

/** The status as text: one line for the plan, one per transfer. */
export function renderRebalance(status: RebalanceStatus): string {
  const { plan, summary } = status;
  if (plan === null || summary === null) return 'no rebalance has run\n';
  const eta = summary.eta_s === null ? '' : summary.eta_s > 0 ? `  ETA ${Math.ceil(summary.eta_s)}s` : '';
  const lines = [
    `rebalance ${plan.id} (${plan.action} ${plan.group}, ring v${plan.fromRingVersion} -> v${plan.toRingVersion}): ${plan.state}`
      + `${plan.error === undefined ? '' : ` (${plan.error})`}`,
    `  overall          ${progressBar(summary.fraction)}  ${summary.keysCopied}/${summary.keysTotal} keys  `
      + `${formatBytes(summary.bytesCopied)}  ${formatBytes(summary.rate_bytes_per_s)}/s${eta}  `
      + `${summary.transfersDone}/${summary.transfers} transfers fenced`,
  ];
  for (const transfer of plan.transfers) {
    const route = `${transfer.from} -> ${transfer.to}`.padEnd(16);
    lines.push(`  ${route} ${progressBar(transferFraction(transfer))}  ${transfer.state.padEnd(9)} `
      + `${transfer.keysCopied}/${transfer.keysTotal} keys  ${formatBytes(transfer.bytesCopied)}  `
      + `${transfer.ranges.length} ranges (${(transfer.share * 100).toFixed(1)}% of the ring)`
      + `${transfer.attempts > 1 ? `  attempt ${transfer.attempts}` : ''}${transfer.lastError === undefined ? '' : `  last error: ${transfer.lastError}`}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Reads the event stream, redrawing each progress event, until `event: end`. Returns the last status. */
async function follow(router: string, out: Output, json: boolean): Promise<RebalanceStatus | undefined> {
  const response = await fetch(`${router.replace(/\/+$/, '')}/v1/rebalance/events`);
  if (!response.ok || response.body === null) throw new AdminHttpError(`HTTP_${response.status}`, 'the router refused the event stream');
  const decoder = new TextDecoder();
  let buffer = '';
  let drawn = 0;
  let last: RebalanceStatus | undefined;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    buffer += decoder.decode(chunk, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const event = /^event: (\w+)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === 'end') return last;
      if (event !== 'progress' || data === undefined) continue;
      last = JSON.parse(data) as RebalanceStatus;
      if (json) {
        out.write(`${data}\n`);
        continue;
      }
      const text = renderRebalance(last);
      // On a terminal, draw over the previous frame.
      if (out.isTTY === true && drawn > 0) out.write(`\u001b[${drawn}A\u001b[J`);
      out.write(text);
      drawn = text.split('\n').length - 1;
    }
  }
  return last;
}

function exitOf(status: RebalanceStatus | undefined): number {
  return status?.plan?.state === 'failed' ? 1 : 0;
}

/** Runs a command's work; an error answer of the router prints `shardkv <command>: CODE: message` and exits 1. */
async function reportingAdminErrors(command: string, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof AdminHttpError) {
      process.stderr.write(`shardkv ${command}: ${err.code}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

export const groupCommand: Command = {
  name: 'group',
  summary: 'add a shard group to the ring, remove one (drain first), or list them',
  usage: 'shardkv group add|remove <id> [--follow] | shardkv group list [--router URL] [--json]',
  flags: [ROUTER_FLAG, JSON_FLAG, FOLLOW_FLAG],
  async run(flags, positional) {
    const [action, id] = positional;
    const router = routerOf(flags);
    const out: Output = process.stdout;
    return reportingAdminErrors('group', async () => {
      if (action === 'list') {
        const { groups } = await call<{ groups: Array<{ id: string; state: string; members: string[]; leader: string | null }> }>(router, 'GET', '/v1/groups');
        if (flags.json === true) out.write(`${JSON.stringify(groups)}\n`);
        else for (const group of groups) out.write(`${group.id.padEnd(10)} ${group.state.padEnd(8)} leader=${group.leader ?? '-'} members=${group.members.join(',')}\n`);
        return 0;
      }
      if ((action !== 'add' && action !== 'remove') || id === undefined || positional.length !== 2) {
        throw new UsageError('expected: group add <id> | group remove <id> | group list');
      }
      const status = action === 'add'
        ? await call<RebalanceStatus>(router, 'POST', '/v1/groups', { id })
        : await call<RebalanceStatus>(router, 'DELETE', `/v1/groups/${encodeURIComponent(id)}`);
      if (flags.json === true && flags.follow !== true) out.write(`${JSON.stringify(status)}\n`);
      else if (flags.follow !== true) out.write(`${renderRebalance(status)}follow it: shardkv rebalance status --follow\n`);
      return flags.follow === true ? exitOf(await follow(router, out, flags.json === true)) : 0;
    });
  },
};

export const rebalanceCommand: Command = {
  name: 'rebalance',
  summary: 'show the rebalance plan and its progress (status [--follow])',
  usage: 'shardkv rebalance status [--follow] [--router URL] [--json]',
  flags: [ROUTER_FLAG, JSON_FLAG, FOLLOW_FLAG],
  async run(flags, positional) {
    if (positional.length !== 1 || positional[0] !== 'status') throw new UsageError('expected: rebalance status');
    const router = routerOf(flags);
    const out: Output = process.stdout;
    return reportingAdminErrors('rebalance', async () => {
      if (flags.follow === true) return exitOf(await follow(router, out, flags.json === true));
      const status = await call<RebalanceStatus>(router, 'GET', '/v1/rebalance');
      out.write(flags.json === true ? `${JSON.stringify(status)}\n` : renderRebalance(status));
      return exitOf(status);
    });
  },
};
