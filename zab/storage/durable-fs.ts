import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * fsync of a directory, so that a file created, renamed or removed in it survives a crash
 * (on Linux a new name is durable only once its directory is synced).
 */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** fsync of a whole file by path (data and metadata). */
export async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Replaces `path` with `bytes` atomically: a reader (or a recovery after a crash) sees either
 * the old content or the new, never a mix. Write a temp file, fsync it, rename, fsync the dir.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.tmp`;
  await writeFile(temp, bytes);
  await syncFile(temp);
  await rename(temp, path);
  await syncDirectory(dirname(path));
}
