/**
 * A key-value store as a sequential model for the linearizability checker: registers with
 * ZooKeeper-style versions, partitioned by key.
 *
 * A key's version counts its successful writes: 0 means never written (and reads undefined),
 * every put or successful cas adds one. cas(key, expectedVersion, value) writes only when the
 * key's version is expectedVersion, and answers BAD_VERSION otherwise (ZooKeeper's conditional
 * setData). Outputs may leave out the version; when they carry one, it is checked too.
 */
import { isPending, type Model, type Operation } from './checker.js';

export type KvInput =
  | { op: 'put'; key: string; value: string }
  | { op: 'get'; key: string }
  | { op: 'cas'; key: string; expectedVersion: number; value: string };

export type KvOutput =
  /** put, or a cas that wrote; `version` is the key's version after the write. */
  | { type: 'ok'; version?: number }
  /** A cas whose expected version did not match. */
  | { type: 'BAD_VERSION' }
  /** get; value undefined when the key was never written. */
  | { type: 'value'; value: string | undefined; version?: number };

export type KvOperation = Operation<KvInput, KvOutput>;

interface Register {
  value: string | undefined;
  version: number;
}

/** Register per key; keys never written are absent. Never mutated: steps return a new object. */
export type KvState = Readonly<Record<string, Register>>;

export const kv = {
  put: (key: string, value: string): KvInput => ({ op: 'put', key, value }),
  get: (key: string): KvInput => ({ op: 'get', key }),
  cas: (key: string, expectedVersion: number, value: string): KvInput => ({ op: 'cas', key, expectedVersion, value }),
  ok: (version?: number): KvOutput => (version === undefined ? { type: 'ok' } : { type: 'ok', version }),
  badVersion: (): KvOutput => ({ type: 'BAD_VERSION' }),
  value: (value: string | undefined, version?: number): KvOutput =>
    version === undefined ? { type: 'value', value } : { type: 'value', value, version },
};

const UNWRITTEN: Register = { value: undefined, version: 0 };

function versionMatches(reported: number | undefined, actual: number): boolean {
  return reported === undefined || reported === actual;
}

/** The answer the store must give to `input` in `state`, and the state after it. */
export function applyKv(state: KvState, input: KvInput): { output: KvOutput; next: KvState } {
  const register = state[input.key] ?? UNWRITTEN;
  switch (input.op) {
    case 'get':
      return { output: kv.value(register.value, register.version), next: state };
    case 'put':
    case 'cas': {
      if (input.op === 'cas' && register.version !== input.expectedVersion) {
        return { output: kv.badVersion(), next: state };
      }
      const written: Register = { value: input.value, version: register.version + 1 };
      return { output: kv.ok(written.version), next: { ...state, [input.key]: written } };
    }
  }
}

function outputAllowed(expected: KvOutput, actual: KvOutput): boolean {
  if (expected.type === 'value') {
    return actual.type === 'value' && actual.value === expected.value && versionMatches(actual.version, expected.version!);
  }
  if (expected.type === 'ok') return actual.type === 'ok' && versionMatches(actual.version, expected.version!);
  return actual.type === 'BAD_VERSION';
}

function describeOutput(output: KvOutput): string {
  const version = (v: number | undefined): string => (v === undefined ? '' : ` (version ${v})`);
  switch (output.type) {
    case 'ok': return `ok${version(output.version)}`;
    case 'BAD_VERSION': return 'BAD_VERSION';
    case 'value': return `${output.value === undefined ? 'undefined' : JSON.stringify(output.value)}${version(output.version)}`;
  }
}

function describeInput(input: KvInput): string {
  switch (input.op) {
    case 'put': return `put(${input.key}, ${JSON.stringify(input.value)})`;
    case 'get': return `get(${input.key})`;
    case 'cas': return `cas(${input.key}, version ${input.expectedVersion}, ${JSON.stringify(input.value)})`;
  }
}

function hashState(state: KvState): string {
  let hash = '';
  for (const key of Object.keys(state).sort()) hash += `${key}\u0000${state[key]!.version}\u0000${state[key]!.value}\u0000`;
  return hash;
}

function equalStates(a: KvState, b: KvState): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => b[key] !== undefined && a[key]!.version === b[key]!.version && a[key]!.value === b[key]!.value);
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  init: () => ({}),
  step(state, input, output) {
    const { output: expected, next } = applyKv(state, input);
    return { ok: output === undefined || outputAllowed(expected, output), next };
  },
  equal: equalStates,
  hash: hashState,
  partition(history) {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of history) {
      const ops = byKey.get(op.input.key);
      if (ops) ops.push(op);
      else byKey.set(op.input.key, [op]);
    }
    return [...byKey.keys()].sort().map((key) => byKey.get(key)!);
  },
  describe(op) {
    const output = isPending(op) ? '? (pending)' : op.output === undefined ? '(no output)' : describeOutput(op.output);
    return `${describeInput(op.input)} -> ${output}`;
  },
  describeState(state) {
    const keys = Object.keys(state).sort();
    if (keys.length === 0) return 'every key unwritten';
    return keys.map((key) => `${key} = ${JSON.stringify(state[key]!.value)} (version ${state[key]!.version})`).join(', ');
  },
};
