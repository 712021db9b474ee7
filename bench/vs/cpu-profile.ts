/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and sums self time per function and per source
 * area (a package under node_modules, a folder of this project, node internals, GC, idle), so
 * the bench can print where a process spent its CPU.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
}

export interface ProfileLine {
  name: string;
  self_ms: number;
  /** Share of the profile's wall time. */
  share: number;
}

export interface ProfileSummary {
  wall_ms: number;
  /** Time not idle: the process's CPU use over the profile. */
  busy_ms: number;
  frames: ProfileLine[];
  areas: ProfileLine[];
}

/** `node_modules/<pkg>` (scoped too), `shardkv:<folder>`, `node:<internal>`, or V8's own names. */
export function sourceArea(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg !== null) return pkg[1] as string;
  if (url.startsWith('node:')) return `node:${url.slice(5).split('/')[0] ?? ''}`;
  const own = /\/dist\/([^/]+)\//.exec(url);
  return own !== null ? `shardkv:${own[1]}` : url;
}

function shortUrl(url: string): string {
  const own = /\/dist\/(.+)$/.exec(url);
  if (own !== null) return own[1] as string;
  const pkg = /node_modules\/(.+)$/.exec(url);
  return pkg !== null ? pkg[1] as string : url;
}

export function summariseCpuProfile(file: string, top = 20): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const wall_ms = (profile.endTime - profile.startTime) / 1000;
  const totalHits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const ms_per_hit = totalHits > 0 ? wall_ms / totalHits : 0;
  const frames = new Map<string, number>();
  const areas = new Map<string, number>();
  let idle_ms = 0;
  for (const node of profile.nodes) {
    const self_ms = (node.hitCount ?? 0) * ms_per_hit;
    if (self_ms === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idle_ms += self_ms;
      continue;
    }
    const frame = url === '' ? functionName || '(anonymous)' : `${functionName || '(anonymous)'} ${shortUrl(url)}:${lineNumber + 1}`;
    frames.set(frame, (frames.get(frame) ?? 0) + self_ms);
    const area = sourceArea(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + self_ms);
  }
  const lines = (map: Map<string, number>): ProfileLine[] => [...map.entries()]
    .map(([name, self_ms]) => ({ name, self_ms, share: wall_ms > 0 ? self_ms / wall_ms : 0 }))
    .sort((a, b) => b.self_ms - a.self_ms)
    .slice(0, top);
  return { wall_ms, busy_ms: wall_ms - idle_ms, frames: lines(frames), areas: lines(areas) };
}
