import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

/** One benchmark's contribution to bench/RESULTS.md. */
export interface BenchSection {
  /** Stable id, used as the section marker so a rerun replaces only its own section. */
  id: string;
  title: string;
  /** Markdown body: tables of measured figures, ratios, notes. */
  markdown: string;
}

export function machineDescription(): string {
  const cpu = cpus();
  const model = cpu[0]?.model.trim() ?? 'unknown CPU';
  return `${cpu.length} x ${model}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
}

const HEADER = '# Benchmark results\n\nWritten by `npm run bench`; each section says when, where and how it was measured.\n' +
  'The machine is shared and noisy: compare figures inside one section (one run), and quote ratios.\n';

/** Replaces (or appends) each section in RESULTS.md, keeping the sections of other benchmarks. */
export function writeSections(file: string, sections: BenchSection[], command: string): void {
  let text = existsSync(file) ? readFileSync(file, 'utf8') : HEADER;
  const stamp = `_Measured ${new Date().toISOString()} on ${machineDescription()}; command: \`${command}\`._`;
  for (const section of sections) {
    const begin = `<!-- bench:${section.id} -->`;
    const end = `<!-- /bench:${section.id} -->`;
    const block = `${begin}\n## ${section.title}\n\n${stamp}\n\n${section.markdown.trim()}\n${end}`;
    const from = text.indexOf(begin);
    const to = text.indexOf(end);
    text = from >= 0 && to > from
      ? text.slice(0, from) + block + text.slice(to + end.length)
      : `${text.trimEnd()}\n\n${block}\n`;
  }
  writeFileSync(file, text);
}

/** A markdown table from a header row and rows of cells. */
export function markdownTable(header: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
