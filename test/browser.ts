import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { BrowserContext, Page } from "playwright-core";
import { chromium } from "playwright-core";

/** Where failing browser tests leave their screenshots (and the README's screenshots are made). */
export const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "test-artifacts");

/** The Chromium the test setup installed (scripts/chromium.mjs), or undefined. */
export function chromiumPath(): string | undefined {
  return process.env.OCS_TEST_CHROMIUM;
}

/** Skip options for browser suites: never skipped in CI. */
export function chromiumSkip(): { skip?: string } {
  if (chromiumPath()) return {};
  if (process.env.CI === "true")
    throw new Error("OCS_TEST_CHROMIUM missing in CI (scripts/test.mjs installs Chromium)");
  return { skip: "Chromium not available (see npm test output)" };
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page screenshot under test-artifacts/ (failures call it); returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * Debian's Chromium, headless, with a fresh profile and nothing reaching out (no sync, no updates,
 * no QUIC): the console must work from the server alone.
 */
export async function openBrowser(viewport = { width: 1280, height: 800 }): Promise<BrowserSession> {
  // A fresh profile each time (Playwright passes it to Chromium as --user-data-dir).
  const profile = mkdtempSync(join(tmpdir(), "ocs-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath(),
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport,
    locale: "en-US",
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(15_000);
  return {
    context,
    page,
    async screenshot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, `${name.replace(/[^\w.-]+/g, "_")}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
