/**
 * A YAML writer for the compose file: block mappings and sequences of strings, numbers and
 * booleans. Every string is written as a JSON string, which is also a valid YAML
 * double-quoted scalar, so no value can be read back as another type ("7070:7070", "on").
 */
export type YamlValue = string | number | boolean | YamlValue[] | { [key: string]: YamlValue };

const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

function scalar(value: string | number | boolean): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function key(name: string): string {
  return PLAIN_KEY.test(name) ? name : JSON.stringify(name);
}

function isScalar(value: YamlValue): value is string | number | boolean {
  return typeof value !== 'object';
}

function emptyCollection(value: YamlValue): string | undefined {
  if (Array.isArray(value)) return value.length === 0 ? '[]' : undefined;
  if (typeof value === 'object') return Object.keys(value).length === 0 ? '{}' : undefined;
  return undefined;
}

function lines(value: YamlValue, indent: string): string[] {
  if (isScalar(value)) return [`${indent}${scalar(value)}`];
  const out: string[] = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      const inline = isScalar(item) ? scalar(item) : emptyCollection(item);
      if (inline !== undefined) out.push(`${indent}- ${inline}`);
      else {
        // The first line of a nested block goes after the dash; the rest line up with it.
        const nested = lines(item, `${indent}  `);
        out.push(`${indent}- ${(nested[0] as string).slice(indent.length + 2)}`, ...nested.slice(1));
      }
    }
    return out;
  }
  for (const [name, item] of Object.entries(value)) {
    const inline = isScalar(item) ? scalar(item) : emptyCollection(item);
    if (inline !== undefined) out.push(`${indent}${key(name)}: ${inline}`);
    else out.push(`${indent}${key(name)}:`, ...lines(item, `${indent}  `));
  }
  return out;
}

/** The document as YAML text, ending with a newline. */
export function renderYaml(document: YamlValue): string {
  return `${lines(document, '').join('\n')}\n`;
}
