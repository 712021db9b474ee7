/**
 * The simulator's replicated state machine: versioned registers (the lincheck KV model's
 * semantics) plus a running hash of every (zxid, payload) applied, so two replicas with the same
 * hash applied the same sequence, snapshots included.
 */
import type { KvInput, KvOutput } from '../lincheck/kv-model.js';

export type KvCommand = Extract<KvInput, { op: 'put' | 'cas' }>;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeCommand(command: KvCommand): Uint8Array {
  return encoder.encode(JSON.stringify(command));
}

interface Register {
  value: string;
  version: number;
}

/** FNV-1a over a string, chained from `seed`. */
export function chainHash(seed: number, text: string): number {
  let hash = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

export class KvStateMachine {
  zxid = 0;
  chain = 0;
  private registers = new Map<string, Register>();

  apply(zxid: number, payload: Uint8Array): KvOutput {
    const text = decoder.decode(payload);
    this.zxid = zxid;
    this.chain = chainHash(this.chain, `${zxid}:${text}`);
    const command = JSON.parse(text) as KvCommand;
    const register = this.registers.get(command.key);
    const version = register?.version ?? 0;
    if (command.op === 'cas' && command.expectedVersion !== version) return { type: 'BAD_VERSION' };
    this.registers.set(command.key, { value: command.value, version: version + 1 });
    return { type: 'ok', version: version + 1 };
  }

  get(key: string): KvOutput {
    const register = this.registers.get(key);
    return { type: 'value', value: register?.value, version: register?.version ?? 0 };
  }

  serialize(): Uint8Array {
    return encoder.encode(JSON.stringify({ zxid: this.zxid, chain: this.chain, registers: [...this.registers] }));
  }

  static restore(data: Uint8Array | undefined): KvStateMachine {
    const machine = new KvStateMachine();
    if (data === undefined) return machine;
    const parsed = JSON.parse(decoder.decode(data)) as { zxid: number; chain: number; registers: Array<[string, Register]> };
    machine.zxid = parsed.zxid;
    machine.chain = parsed.chain;
    machine.registers = new Map(parsed.registers);
    return machine;
  }
}
