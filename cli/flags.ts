/**
 * Command-line flags with environment fallbacks: `--data-dir X` can also be given as
 * SHARDKV_DATA_DIR=X (flag wins). The compose file uses the same names.
 */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface FlagSpec {
  /** Flag name without dashes, kebab-case. */
  name: string;
  description: string;
  kind: 'string' | 'number' | 'boolean';
  default?: string | number | boolean;
  required?: boolean;
}

export type FlagValues = Record<string, string | number | boolean | undefined>;

export function envName(flag: string): string {
  return `SHARDKV_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function convert(spec: FlagSpec, raw: string, source: string): string | number | boolean {
  if (spec.kind === 'string') return raw;
  if (spec.kind === 'number') {
    const value = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(value)) {
      throw new UsageError(`${source} must be a number, got '${raw}'`);
    }
    return value;
  }
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new UsageError(`${source} must be true or false, got '${raw}'`);
}

/** Parses argv (after the command name) into flag values and positional arguments. */
export function parseFlags(
  argv: string[],
  specs: FlagSpec[],
  env: NodeJS.ProcessEnv = process.env,
): { flags: FlagValues; positional: string[] } {
  const byName = new Map(specs.map((spec) => [spec.name, spec]));
  const flags: FlagValues = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const spec = byName.get(name);
    if (spec === undefined) throw new UsageError(`unknown flag --${name}`);
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (spec.kind === 'boolean') raw = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new UsageError(`flag --${name} needs a value`);
      raw = next;
      i++;
    }
    flags[name] = convert(spec, raw, `--${name}`);
  }
  for (const spec of specs) {
    if (flags[spec.name] !== undefined) continue;
    const fromEnv = env[envName(spec.name)];
    if (fromEnv !== undefined && fromEnv !== '') flags[spec.name] = convert(spec, fromEnv, envName(spec.name));
    else if (spec.default !== undefined) flags[spec.name] = spec.default;
    else if (spec.required) throw new UsageError(`missing --${spec.name} (or ${envName(spec.name)})`);
  }
  return { flags, positional };
}

export function flagHelp(specs: FlagSpec[]): string {
  return specs
    .map((spec) => {
      const value = spec.kind === 'boolean' ? '' : ` <${spec.kind}>`;
      const dflt = spec.default !== undefined ? ` (default ${String(spec.default)})` : spec.required ? ' (required)' : '';
      return `  --${spec.name}${value}  ${spec.description}${dflt}  [env ${envName(spec.name)}]`;
    })
    .join('\n');
}
