// Headless Chromium for end-to-end tests: Debian's /usr/bin/chromium driven by playwright-core.
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: FLAGS, headless: true });
}

/** A persistent profile (so cookies and storage survive a new tab), removed on close. */
export async function launchPersistentContext(options: Parameters<typeof chromium.launchPersistentContext>[1] = {}): Promise<{
  context: BrowserContext;
  close(): Promise<void>;
}> {
  const dir = mkdtempSync(join(tmpdir(), "bantico-chromium-"));
  const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, args: FLAGS, headless: true, ...options });
  return {
    context,
    async close() {
      await context.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
