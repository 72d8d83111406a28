import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium package (scripts/setup.sh installs it); playwright-core drives it, it downloads no browser. */
export const CHROMIUM = process.env['KBUILD_CHROMIUM'] ?? '/usr/bin/chromium';

/**
 * Flags for a closed network: without the background-networking ones Chromium
 * tries Google's hosts at every start. --headless and --no-sandbox because
 * tests run as root without a display.
 */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface Browser {
  readonly context: BrowserContext;
  /** A new page that records every request it makes and every console message. */
  open(url: string): Promise<{ page: Page; requests: string[]; console: string[] }>;
  close(): Promise<void>;
}

/** Real headless Chromium with a fresh, empty profile (--user-data-dir) removed on close. */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'kbuild-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1400, height: 900 },
  });
  return {
    context,
    async open(url) {
      const page = await context.newPage();
      const requests: string[] = [];
      const messages: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('console', (message) => messages.push(`${message.type()}: ${message.text()}`));
      page.on('pageerror', (error) => messages.push(`pageerror: ${error.message}`));
      await page.goto(url, { waitUntil: 'load' });
      return { page, requests, console: messages };
    },
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
