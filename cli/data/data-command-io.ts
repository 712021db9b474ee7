/** Where the data commands read and write: the process by default, buffers in tests. */

export interface DataCommandIo {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string): unknown };
  /** Node data for `set`/`create` when no data argument is given. */
  stdin: AsyncIterable<string | Uint8Array>;
  /** A signal that aborts on Ctrl-C (for `watch`); `release` removes the handler. */
  interrupt(): { signal: AbortSignal; release(): void };
}

export function processIo(): DataCommandIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: process.stdin,
    interrupt: () => {
      const controller = new AbortController();
      const onSigint = (): void => controller.abort();
      process.once('SIGINT', onSigint);
      return { signal: controller.signal, release: () => process.off('SIGINT', onSigint) };
    },
  };
}

export async function readAll(input: AsyncIterable<string | Uint8Array>): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.from(chunk));
  return Buffer.concat(chunks);
}
