/**
 * Paths the compose tests read: the repository's compose/ folder and the compiled CLI. Tests
 * run compiled from <outDir>/test/compose/, and outDir may be outside the repository (a
 * helper's private build), so the repository is found by walking up from here, then from
 * the working directory.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** <outDir>, the root of the compiled tree (this file is <outDir>/test/compose/repo-files.js). */
export const OUT_DIR = resolve(HERE, '..', '..');
export const CLI_MAIN = join(OUT_DIR, 'cli', 'main.js');

function findRepo(): string {
  for (const start of [HERE, process.cwd()]) {
    let dir = start;
    for (let depth = 0; depth < 12; depth++) {
      if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'compose', 'docker-compose.yml'))) return dir;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new Error(`cannot find the repository (package.json beside compose/docker-compose.yml) above ${HERE} or ${process.cwd()}`);
}

export const REPO_DIR = findRepo();
export const COMPOSE_DIR = join(REPO_DIR, 'compose');
export const COMPOSE_FILE = join(COMPOSE_DIR, 'docker-compose.yml');
