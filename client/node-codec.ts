/** Node data between the SDK's bytes and the API's JSON (`data` + `encoding`). */
import type { NodeData, Stat } from './types.js';

export function toBytes(data: string | Uint8Array | undefined): Uint8Array {
  if (data === undefined) return new Uint8Array(0);
  return typeof data === 'string' ? new TextEncoder().encode(data) : data;
}

/** JSON `data` + `encoding` for a multi op. */
export function toJsonData(data: string | Uint8Array | undefined): { data?: string; encoding?: 'utf8' | 'base64' } {
  if (data === undefined) return {};
  if (typeof data === 'string') return { data, encoding: 'utf8' };
  return { data: Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64'), encoding: 'base64' };
}

export interface NodeAnswer {
  path: string;
  data: string;
  encoding: 'utf8' | 'base64';
  stat: Stat;
}

export function fromNodeAnswer(answer: NodeAnswer): NodeData {
  if (answer.encoding === 'base64') {
    return { path: answer.path, data: new Uint8Array(Buffer.from(answer.data, 'base64')), text: null, stat: answer.stat };
  }
  return { path: answer.path, data: new TextEncoder().encode(answer.data), text: answer.data, stat: answer.stat };
}
