#!/usr/bin/env node
/**
 * `npm run bench [-- --only ring,zab]`: runs every benchmark entry (bench/*.bench.ts),
 * prints each section and writes it into bench/RESULTS.md.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeSections, type BenchSection } from './results.js';

export interface BenchOptions {
  /** Extra arguments after `--`, for entries that take their own flags. */
  args: string[];
}

export type BenchEntry = (options: BenchOptions) => Promise<BenchSection[]>;

const here = dirname(fileURLToPath(import.meta.url));
const resultsFile = join(here, '..', '..', 'bench', 'RESULTS.md');

function parseOnly(args: string[]): Set<string> | undefined {
  const at = args.indexOf('--only');
  if (at < 0) return undefined;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) {
    process.stderr.write('bench: --only needs a comma-separated list of entries\n');
    process.exit(2);
  }
  return new Set(value.split(','));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const only = parseOnly(args);
  const entries = readdirSync(here)
    .filter((name) => name.endsWith('.bench.js'))
    .map((name) => name.slice(0, -'.bench.js'.length))
    .sort();
  const chosen = only === undefined ? entries : entries.filter((name) => only.has(name));
  if (chosen.length === 0) {
    process.stderr.write(`bench: no entry matches; entries are: ${entries.join(', ')}\n`);
    process.exit(2);
  }
  const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
  for (const name of chosen) {
    const module = (await import(join(here, `${name}.bench.js`))) as { default: BenchEntry };
    process.stdout.write(`\n== bench ${name}\n`);
    const sections = await module.default({ args });
    for (const section of sections) process.stdout.write(`\n## ${section.title}\n\n${section.markdown}\n`);
    writeSections(resultsFile, sections, command);
  }
  process.stdout.write(`\nwritten to bench/RESULTS.md\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
