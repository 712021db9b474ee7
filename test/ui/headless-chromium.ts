/**
 * Debian's chromium driven by playwright-core (a devDependency loaded at run time, so the
 * project builds without it), headless, with a fresh profile in a temp dir. The interfaces
 * below are the part of playwright's API the UI tests use.
 */
import { existsSync } from 'node:fs';
import { makeTempDir } from '../support/tmpdir.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface Page {
  goto(url: string): Promise<unknown>;
  waitForFunction(expression: string, arg?: unknown, options?: { timeout: number }): Promise<unknown>;
  evaluate<T>(expression: string): Promise<T>;
  screenshot(options: { path: string; fullPage?: boolean }): Promise<Buffer>;
  close(): Promise<void>;
}

interface BrowserContext {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

interface PlaywrightCore {
  chromium: {
    launchPersistentContext(userDataDir: string, options: {
      executablePath: string; headless: boolean; args: string[]; viewport: { width: number; height: number }; timeout: number;
    }): Promise<BrowserContext>;
  };
}

export interface HeadlessChromium {
  newPage(): Promise<Page>;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<HeadlessChromium> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`${CHROMIUM_PATH} is missing: apt-get install -y chromium`);
  const name = 'playwright-core';
  const playwright = (await import(name)) as PlaywrightCore;
  const profile = makeTempDir('ui-chromium-profile');
  try {
    const context = await playwright.chromium.launchPersistentContext(profile.dir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
      viewport: { width: 1100, height: 560 },
      timeout: 30_000,
    });
    return {
      newPage: () => context.newPage(),
      async close() {
        await context.close();
        profile.cleanup();
      },
    };
  } catch (err) {
    profile.cleanup();
    throw err;
  }
}
